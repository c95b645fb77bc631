import XenPolicyCommands

XenPolicyCompilerCommand.main()
