import Foundation
import OnboardTestSupport
import XCTest

/// Runs the `onboard` executable built beside the tests.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum Onboard {
    static var executable: URL {
        let candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
            + Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
        for directory in candidates {
            let url = directory.appendingPathComponent("onboard")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return URL(fileURLWithPath: TestPaths.root).appendingPathComponent(".build/debug/onboard")
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: TestPaths.root)
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A user error: exit `status`, exactly one error line on stderr that contains `text` (after
/// progress lines, when the command had started long work).
func assertUserError(_ result: CommandResult, status: Int32, contains text: String, afterProgress: Bool = false, line: UInt = #line) {
    XCTAssertEqual(result.status, status, result.stderr, line: line)
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    let errors = lines.filter { $0.hasPrefix("onboard:") }
    XCTAssertEqual(afterProgress ? errors.count : lines.count, 1, "stderr: \(result.stderr)", line: line)
    if afterProgress { XCTAssertTrue(lines.last?.hasPrefix("onboard:") == true, "stderr: \(result.stderr)", line: line) }
    XCTAssertTrue(result.stderr.contains(text), "stderr '\(result.stderr)' lacks '\(text)'", line: line)
    XCTAssertFalse(result.stderr.contains("Fatal error"), line: line)
}
