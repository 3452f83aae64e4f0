import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// A process id that runs nothing (for temporaries left by a killed run).
func deadProcessID() -> Int32 {
    var pid: Int32 = 4_000_000
    while kill(pid, 0) == 0 || errno != ESRCH { pid -= 1 }
    return pid
}

func entries(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
}

final class AtomicFileTargetTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("atomic-target") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func test_directoryTargetIsAnErrorAndLeftAlone() throws {
        let target = "\(directory)/out"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try AtomicFile(path: "\(target)/inside.txt").write(string: "keep")
        XCTAssertThrowsError(try AtomicFile(path: target).write(bytes: [1, 2])) { error in
            XCTAssertEqual(error as? OnboardError, .io(path: target, reason: "is a directory; name a file to write"))
        }
        XCTAssertEqual(entries(directory), ["out"])
        XCTAssertEqual(entries(target), ["inside.txt"])
    }

    func test_linkIsWrittenThroughAndDevicesAndDanglingLinksAreRefused() throws {
        let real = "\(directory)/real.bin", link = "\(directory)/link.bin"
        try AtomicFile(path: real).write(bytes: [1])
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        try AtomicFile(path: link).write(bytes: [7, 8])
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), real)
        XCTAssertEqual(FileManager.default.contents(atPath: real), Data([7, 8]))

        let dangling = "\(directory)/dangling.bin"
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: "\(directory)/nothing")
        XCTAssertThrowsError(try AtomicFile(path: dangling).write(bytes: [1])) { error in
            XCTAssertEqual(error as? OnboardError, .io(path: dangling, reason: "is a symbolic link to nothing; refusing to write through it"))
        }
        XCTAssertThrowsError(try AtomicFile(path: "/dev/null").write(bytes: [1])) { error in
            XCTAssertEqual(error as? OnboardError,
                           .io(path: "/dev/null", reason: "is not a regular file (a device, FIFO or socket); refusing to write to it"))
        }
        let fifo = "\(directory)/fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try AtomicFile(path: fifo).write(bytes: [1]))
        XCTAssertEqual(entries(directory), ["dangling.bin", "fifo", "link.bin", "real.bin"])
    }

    func test_staleTemporariesOfDeadProcessesAreRemoved() throws {
        let dead = deadProcessID()
        let stale = ["\(directory)/.out.bin.tmp-\(dead)-3", "\(directory)/out.bin.tmp-\(dead)-77"]
        for path in stale { XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data([0]))) }
        // Process 1 runs: its temporary may still be written.
        let live = "\(directory)/.out.bin.tmp-1-2"
        XCTAssertTrue(FileManager.default.createFile(atPath: live, contents: Data([0])))
        try AtomicFile(path: "\(directory)/out.bin").write(bytes: [5])
        XCTAssertEqual(entries(directory), [".out.bin.tmp-1-2", "out.bin"])
    }
}

final class StagingDirectoryTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("staging") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ target: String, files: [String: String], force: Bool = false) throws {
        let staging = try StagingDirectory(target: target, force: force)
        for (name, text) in files {
            try FileManager.default.createDirectory(atPath: (staging.file(name) as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try AtomicFile(path: staging.file(name)).write(string: text)
        }
        try staging.commit()
    }

    func manifest(_ target: String) throws -> [String] {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: "\(target)/\(OutputManifest.name)"))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["written_by"] as? String, "onboard")
        return try XCTUnwrap(object["entries"] as? [String])
    }

    func test_outputListsWhatItWroteAndARerunReplacesIt() throws {
        let target = "\(directory)/out"
        try write(target, files: ["a.txt": "1", "sub/b.txt": "2"])
        XCTAssertEqual(try manifest(target), ["a.txt", "sub", "sub/b.txt"])
        try write(target, files: ["c.txt": "3"])
        XCTAssertEqual(entries(target), ["c.txt", OutputManifest.name])
        XCTAssertEqual(try manifest(target), ["c.txt"])
        XCTAssertEqual(entries(directory), ["out"])
    }

    func test_foreignDirectoriesAreRefusedUnlessForced() throws {
        let target = "\(directory)/project"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try AtomicFile(path: "\(target)/config.json").write(string: "{}")
        XCTAssertThrowsError(try write(target, files: ["x": "1"])) { error in
            XCTAssertTrue("\(error)".contains("holds files Onboard did not write"), "\(error)")
        }
        XCTAssertEqual(entries(target), ["config.json"])
        // An earlier output with a file added since is not Onboard's alone either.
        let output = "\(directory)/output"
        try write(output, files: ["x": "1"])
        try AtomicFile(path: "\(output)/notes.txt").write(string: "mine")
        XCTAssertThrowsError(try write(output, files: ["x": "2"]))
        XCTAssertEqual(entries(output), ["notes.txt", OutputManifest.name, "x"])
        try write(target, files: ["x": "1"], force: true)
        XCTAssertEqual(entries(target), [OutputManifest.name, "x"])
        XCTAssertEqual(entries(directory), ["output", "project"])
        // An empty directory is replaced; a file is not.
        let empty = "\(directory)/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        try write(empty, files: ["y": "2"])
        XCTAssertEqual(entries(empty), [OutputManifest.name, "y"])
        try AtomicFile(path: "\(directory)/file").write(string: "f")
        XCTAssertThrowsError(try write("\(directory)/file", files: ["y": "2"], force: true)) { error in
            XCTAssertEqual(error as? OnboardError, .io(path: "\(directory)/file", reason: "exists and is not a directory"))
        }
    }

    func test_linkToADirectoryIsWrittenThroughAndDiscardLeavesNothing() throws {
        let real = "\(directory)/real", link = "\(directory)/link"
        try write(real, files: ["a": "1"])
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        try write(link, files: ["b": "2"])
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), real)
        XCTAssertEqual(entries(real), ["b", OutputManifest.name])
        let staging = try StagingDirectory(target: "\(directory)/never")
        try AtomicFile(path: staging.file("half")).write(string: "x")
        staging.discard()
        XCTAssertEqual(entries(directory), ["link", "real"])
    }

    func test_staleStagingDirectoriesOfDeadProcessesAreRemoved() throws {
        let stale = "\(directory)/.out.tmp-\(deadProcessID())-4"
        try FileManager.default.createDirectory(atPath: "\(stale)/model-int8", withIntermediateDirectories: true)
        try AtomicFile(path: "\(stale)/model-int8/model.safetensors").write(bytes: [1, 2, 3])
        try write("\(directory)/out", files: ["a": "1"])
        XCTAssertEqual(entries(directory), ["out"])
    }

    func test_outputEqualToInsideOrHoldingAnInputIsRefused() throws {
        let model = "\(directory)/model"
        try write(model, files: ["config.json": "{}"])
        func refusal(_ check: () throws -> Void) -> String {
            do { try check() } catch { return "\(error)" }
            return "accepted"
        }
        let input = [OutputPath.Input("--model", model)]
        XCTAssertTrue(refusal { try OutputPath.checkDirectory(model + "/", option: "--out", inputs: input) }.contains("--out is the --model input"))
        XCTAssertTrue(refusal { try OutputPath.checkDirectory("\(model)/sub/q", option: "--out", inputs: input) }.contains("--out lies inside the --model input"))
        XCTAssertTrue(refusal { try OutputPath.checkDirectory(directory, option: "--out", inputs: input) }.contains("--out holds the --model input"))
        XCTAssertTrue(refusal { try OutputPath.checkFile("\(model)/config.json", option: "--out", inputs: input) }.contains("lies inside the --model input"))
        XCTAssertEqual(refusal { try OutputPath.checkDirectory("\(directory)/model-int8", option: "--out", inputs: input) }, "accepted")
        // Through a link and a relative path to the same place.
        let link = "\(directory)/alias"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: model)
        XCTAssertTrue(refusal { try OutputPath.checkDirectory("\(link)/../model", option: "--out", inputs: [.init("--model", link)]) }.contains("is the --model input"))
    }
}
