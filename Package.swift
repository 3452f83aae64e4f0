// swift-tools-version:6.0
import PackageDescription

/// Every Swift module pairs with a test target of the same name + "Tests".
/// Layers depend only downward: Core <- Quant <- Graph <- Models; Core <- Sensors <- Eval;
/// Core <- Text (tokenizers, sentence files); Graph + Models <- ONNX (import, export);
/// Models + Sensors + Eval + Text + ONNX <- Pipeline (the workflows) <- CLI (parses and prints).
let package = Package(
    name: "Onboard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "onboard", targets: ["onboard"]),
        .library(name: "OnboardCore", targets: ["OnboardCore"]),
        .library(name: "OnboardQuant", targets: ["OnboardQuant"]),
        .library(name: "OnboardGraph", targets: ["OnboardGraph"]),
        .library(name: "OnboardModels", targets: ["OnboardModels"]),
        .library(name: "OnboardSensors", targets: ["OnboardSensors"]),
        .library(name: "OnboardText", targets: ["OnboardText"]),
        .library(name: "OnboardONNX", targets: ["OnboardONNX"]),
        .library(name: "OnboardEval", targets: ["OnboardEval"]),
        .library(name: "OnboardPipeline", targets: ["OnboardPipeline"]),
        /// Every module above under one import.
        .library(name: "OnboardKit", targets: ["OnboardKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // Runtime only: Sources/OnboardONNX/Proto is generated once by tools/generate_onnx_proto.sh.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // C and system libraries.
        .target(name: "CKernels"),
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CJPEG",
            pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg-dev"])]),
        .target(name: "CImageCodec", dependencies: ["CJPEG"]),

        // Swift layers.
        .target(name: "OnboardCore", dependencies: ["CKernels", "CBLAS"]),
        .target(name: "OnboardQuant", dependencies: ["OnboardCore", "CKernels", "CBLAS"]),
        .target(name: "OnboardGraph", dependencies: ["OnboardCore", "OnboardQuant", "CKernels", "CBLAS"]),
        .target(name: "OnboardModels", dependencies: ["OnboardCore", "OnboardGraph"]),
        .target(name: "OnboardSensors", dependencies: ["OnboardCore", "CImageCodec"]),
        .target(name: "OnboardEval", dependencies: ["OnboardCore", "OnboardSensors"]),
        .target(name: "OnboardText", dependencies: ["OnboardCore"]),
        .target(name: "OnboardONNX", dependencies: [
            "OnboardCore", "OnboardQuant", "OnboardGraph", "OnboardModels",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .target(name: "OnboardPipeline", dependencies: [
            "OnboardCore", "OnboardQuant", "OnboardGraph", "OnboardModels", "OnboardSensors", "OnboardEval", "OnboardText", "OnboardONNX",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "OnboardKit", dependencies: [
            "OnboardCore", "OnboardQuant", "OnboardGraph", "OnboardModels", "OnboardSensors", "OnboardEval", "OnboardText", "OnboardONNX", "OnboardPipeline",
        ]),
        .target(name: "OnboardCLI", dependencies: [
            "OnboardKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "onboard", dependencies: ["OnboardCLI"]),

        // Tests.
        .target(name: "OnboardTestSupport", dependencies: ["OnboardCore"], path: "Tests/OnboardTestSupport"),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels", "OnboardCore", "OnboardTestSupport"]),
        .testTarget(name: "OnboardCoreTests", dependencies: ["OnboardCore", "OnboardTestSupport"]),
        .testTarget(name: "OnboardQuantTests", dependencies: ["OnboardQuant", "OnboardTestSupport"]),
        .testTarget(name: "OnboardGraphTests", dependencies: ["OnboardGraph", "OnboardTestSupport"]),
        .testTarget(name: "OnboardModelsTests", dependencies: ["OnboardModels", "OnboardTestSupport"]),
        .testTarget(name: "OnboardSensorsTests", dependencies: ["OnboardSensors", "OnboardTestSupport"]),
        .testTarget(name: "OnboardEvalTests", dependencies: ["OnboardEval", "OnboardTestSupport"]),
        .testTarget(name: "OnboardTextTests", dependencies: ["OnboardText", "OnboardTestSupport"]),
        .testTarget(name: "OnboardONNXTests", dependencies: ["OnboardONNX", "OnboardTestSupport"]),
        .testTarget(name: "OnboardPipelineTests", dependencies: ["OnboardKit", "OnboardTestSupport"]),
        // Runs the built `onboard` executable as a user would.
        .testTarget(name: "OnboardCLITests", dependencies: ["onboard", "OnboardTestSupport"]),
    ]
)
