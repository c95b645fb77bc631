// swift-tools-version: 6.1
import PackageDescription

// libFuzzer harnesses for xen-policy's input readers (docs/fuzzing.md). A separate package, never a
// dependency of anything: it may use unsafe flags. Build from this directory with
//
//     swift build -c release --scratch-path /tmp/fuzz-scratch --sanitize fuzzer --sanitize address \
//         -Xswiftc -sanitize=fuzzer,address --product FuzzTrace
//
// one product at a time, or run `Scripts/fuzz.sh` from the repository root (which says why).
//
// The harnesses call the readers in memory (trace reader, rule table decoder, blob decoder, protocol
// parser and checker, XML reader and policy checker) and the lint and diff pipelines. Those live in
// the modules XenPolicyKit is built from; SwiftPM builds them for the `XenPolicyKit` product and their
// interfaces sit beside its own, so they can be imported here although they are no product of their own.

// SwiftPM names a package depended on by path after its directory: the checkout's, whatever it is called.
let rootPackage = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "xen-policy")

let harnessSettings: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "xen-policy-fuzz",
    dependencies: [
        .package(path: "..")
    ],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "XenPolicyKit", package: rootPackage)]
        ),
        .executableTarget(name: "FuzzTrace", dependencies: ["FuzzSupport"], swiftSettings: harnessSettings),
        .executableTarget(name: "FuzzRuleTable", dependencies: ["FuzzSupport"], swiftSettings: harnessSettings),
        .executableTarget(name: "FuzzBlob", dependencies: ["FuzzSupport"], swiftSettings: harnessSettings),
        .executableTarget(name: "FuzzProtocol", dependencies: ["FuzzSupport"], swiftSettings: harnessSettings),
        .executableTarget(name: "FuzzPolicyXML", dependencies: ["FuzzSupport"], swiftSettings: harnessSettings),
        .executableTarget(name: "FuzzMap", dependencies: ["FuzzSupport"], swiftSettings: harnessSettings),
        .executableTarget(name: "FuzzLint", dependencies: ["FuzzSupport"], swiftSettings: harnessSettings),
        .executableTarget(name: "FuzzDiff", dependencies: ["FuzzSupport"], swiftSettings: harnessSettings),
    ]
)
