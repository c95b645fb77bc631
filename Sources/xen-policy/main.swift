import XenPolicyCommands

XenPolicyCommand.main()
