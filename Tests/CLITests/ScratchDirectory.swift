import Foundation

/// A directory of its own under the temporary directory, removed with the object: the suites that
/// write files keep one each (Swift Testing makes an instance of a suite per test).
final class ScratchDirectory {
    let url: URL

    init(_ prefix: String) {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}
