// swift-tools-version:6.0
import Foundation
import PackageDescription

// The Onboard checkout this example sits in (two folders up). SwiftPM names a path dependency
// after its folder, so the name is read from the path: the example builds whatever the clone is called.
let onboard = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "DetectAndValidate",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: onboard.path)],
    targets: [
        .executableTarget(
            name: "DetectAndValidate",
            dependencies: [.product(name: "OnboardKit", package: onboard.lastPathComponent)]),
    ]
)
