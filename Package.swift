// swift-tools-version: 6.1
import PackageDescription

// The compiler is a pipeline of targets, so SwiftPM enforces the dependency direction:
// read (PolicyReader) -> check (PolicyChecker) -> model (PolicyModel) -> emit (PolicyEmitter)
// -> tools (PolicyTools) -> driver (XenPolicyKit) -> commands (XenPolicyCommands) -> two thin executables.
let package = Package(
    name: "xen-policy",
    products: [
        .executable(name: "xen-policyc", targets: ["xen-policyc"]),
        .executable(name: "xen-policy", targets: ["xen-policy"]),
        .library(name: "XenPolicyKit", targets: ["XenPolicyKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"]), .brew(["libxml2"])]
        ),
        .target(name: "PolicyDiagnostics"),
        .target(name: "PolicyModel", dependencies: ["PolicyDiagnostics"]),
        .target(name: "ProtocolSyntax", dependencies: ["PolicyDiagnostics"]),
        .target(name: "ProtocolModel"),
        .target(name: "ProtocolChecker", dependencies: ["ProtocolSyntax", "ProtocolModel", "PolicyModel", "PolicyDiagnostics"]),
        .target(name: "ProtocolTools", dependencies: ["ProtocolModel"]),
        .target(name: "RuleTable", dependencies: ["ProtocolModel", "PolicyDiagnostics"]),
        // Trace readers of the replay checker: oxenstored access logs, cxenstored traces, JSON lines.
        .target(name: "XenstoreTrace", dependencies: ["PolicyDiagnostics"]),
        // The generic reference checker: replays traces against protocol definitions; tools stage.
        .target(name: "ProtocolReplay", dependencies: ["ProtocolModel", "XenstoreTrace", "PolicyDiagnostics", "CPrefetch"]),
        // A cache prefetch hint for the replay, which Swift does not offer.
        .target(name: "CPrefetch"),
        .target(name: "PolicyReader", dependencies: ["CLibXML2", "PolicyDiagnostics"]),
        .target(name: "PolicyChecker", dependencies: ["PolicyReader", "PolicyModel", "PolicyDiagnostics"]),
        .target(name: "PolicyEmitter", dependencies: ["PolicyModel", "PolicyDiagnostics"]),
        .target(name: "PolicyTools", dependencies: ["PolicyEmitter", "PolicyModel", "PolicyDiagnostics"]),
        // Lint rules over the checked policy and its XML tree, and over checked protocol descriptions
        // and their analysis (suppression comments in both); tools stage.
        .target(
            name: "PolicyLint",
            dependencies: ["PolicyModel", "PolicyReader", "PolicyDiagnostics", "ProtocolChecker", "ProtocolModel", "ProtocolSyntax"]),
        // Semantic diff of two checked policies: changes by name, ssidrefs, effects, update validity; tools stage.
        .target(name: "PolicyDiff", dependencies: ["PolicyModel", "PolicyEmitter", "PolicyDiagnostics", "ProtocolModel"]),
        .target(
            name: "XenPolicyKit",
            dependencies: [
                "PolicyReader", "PolicyChecker", "PolicyModel", "PolicyEmitter", "PolicyTools", "PolicyLint", "PolicyDiff",
                "PolicyDiagnostics", "ProtocolChecker", "ProtocolModel", "ProtocolSyntax", "ProtocolTools", "RuleTable", "ProtocolReplay",
                "XenstoreTrace",
            ]
        ),
        .target(
            name: "XenPolicyCommands",
            dependencies: ["XenPolicyKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "xen-policyc", dependencies: ["XenPolicyCommands"]),
        .executableTarget(name: "xen-policy", dependencies: ["XenPolicyCommands"]),
        // Code the test targets share (the fuzz tests' mutator); not part of any product.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "PolicyReaderTests", dependencies: ["PolicyReader", "PolicyDiagnostics", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ProtocolSyntaxTests", dependencies: ["ProtocolSyntax", "PolicyDiagnostics"], exclude: ["Fixtures"]),
        .testTarget(
            name: "ProtocolCheckerTests",
            dependencies: ["ProtocolChecker", "ProtocolSyntax", "ProtocolModel", "PolicyModel", "PolicyDiagnostics", "TestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "RuleTableTests", dependencies: ["RuleTable", "ProtocolChecker", "ProtocolModel", "PolicyDiagnostics", "TestSupport"]),
        .testTarget(
            name: "ProtocolReplayTests",
            dependencies: ["ProtocolReplay", "ProtocolChecker", "ProtocolModel", "XenstoreTrace", "PolicyDiagnostics", "TestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "XenstoreTraceTests", dependencies: ["XenstoreTrace", "PolicyDiagnostics", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "PolicyCheckerTests", dependencies: ["PolicyChecker", "PolicyReader", "PolicyModel", "PolicyDiagnostics"]),
        .testTarget(name: "PolicyEmitterTests", dependencies: ["PolicyEmitter", "PolicyModel", "TestSupport"]),
        .testTarget(name: "XenPolicyKitTests", dependencies: ["XenPolicyKit", "TestSupport"], exclude: ["Conformance"]),
        .testTarget(
            name: "PolicyLintTests", dependencies: ["PolicyLint", "XenPolicyKit", "PolicyReader", "PolicyModel", "PolicyDiagnostics"]),
        .testTarget(
            name: "PolicyDiffTests",
            dependencies: ["PolicyDiff", "XenPolicyKit", "PolicyEmitter", "PolicyModel", "PolicyDiagnostics", "TestSupport"],
            exclude: ["Fixtures"]),
        // Depends on the executables so that `swift test` builds them; the tests run the binaries.
        .testTarget(name: "CLITests", dependencies: ["xen-policyc", "xen-policy"], exclude: ["Fixtures", "Goldens"]),
    ]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
