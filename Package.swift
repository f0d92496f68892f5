// swift-tools-version: 6.0
// trm: ahead-of-time compiled inference and training for Tiny Recursive Models (TRM) and their
// Mamba-2 hybrids. No Swift package dependencies; links protobuf-c and OpenBLAS (Debian -dev packages).
import Foundation
import PackageDescription

let package = Package(
    name: "trm",
    products: [
        .library(name: "TRMCore", targets: ["TRMCore"]),
        .library(name: "GraphIR", targets: ["GraphIR"]),
        .library(name: "Runtime", targets: ["Runtime"]),
        .library(name: "trm_runtime", type: .dynamic, targets: ["TRMRuntimeC"]),
        .executable(name: "trm-train", targets: ["trm-train"]),
        .executable(name: "trm-info", targets: ["trm-info"]),
        .executable(name: "trm-compile", targets: ["trm-compile"]),
        .executable(name: "trm-run", targets: ["trm-run"]),
        .executable(name: "trm-data", targets: ["trm-data"]),
        .executable(name: "trm-bench", targets: ["trm-bench"]),
    ],
    targets: [
        // C interop, confined to these shim modules.
        .systemLibrary(
            name: "CProtobufC", pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // protoc-c output for Proto/trmg.proto (committed; `make proto` regenerates it).
        .target(
            name: "TRMGProto", dependencies: ["CProtobufC"],
            cSettings: [.unsafeFlags(["-Wno-everything"])]),

        // Under everything: errors, output files, .npy, seeded random, memory limits, interrupt deferral.
        .target(name: "TRMCore"),
        // The graph IR and its file formats (checkpoint, .trmg/ONNX, the plan, the step-graph contract).
        .target(name: "GraphIR", dependencies: ["TRMCore", "TRMGProto", "CProtobufC"]),
        // Vectorised exp-based loops (C, so they auto-vectorise; AVX2 and baseline clones).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        .target(name: "Runtime", dependencies: ["GraphIR", "COpenBLAS", "CKernels", "TRMCore", "Tasks"]),
        .target(name: "TRMRuntimeC", dependencies: ["Runtime", "GraphIR", "TRMCore", "Tasks"]),
        .target(name: "Compiler", dependencies: ["GraphIR", "Runtime", "TRMCore"]),
        .target(name: "Tasks", dependencies: ["TRMCore"]),
        .target(name: "Trainer", dependencies: ["GraphIR", "Runtime", "Tasks", "COpenBLAS", "CKernels", "TRMCore"]),
        .target(name: "CLISupport", dependencies: ["TRMCore"]),
        // Every file reader as a libFuzzer target; the test suite replays their corpora.
        .target(name: "FuzzTargets", dependencies: ["GraphIR", "Runtime", "Tasks", "TRMRuntimeC", "Compiler", "TRMCore"]),

        .executableTarget(name: "trm-train", dependencies: ["Trainer", "Runtime", "GraphIR", "CLISupport", "TRMCore", "Tasks"]),
        .executableTarget(name: "trm-info", dependencies: ["GraphIR", "Runtime", "CLISupport", "TRMCore"]),
        .executableTarget(name: "trm-compile", dependencies: ["Compiler", "Runtime", "GraphIR", "CLISupport", "TRMCore", "Tasks"]),
        .executableTarget(name: "trm-run", dependencies: ["Runtime", "GraphIR", "CLISupport", "Tasks", "TRMCore"]),
        .executableTarget(name: "trm-data", dependencies: ["Tasks", "GraphIR", "CLISupport", "TRMCore"]),
        .target(name: "CMallocCounter"),
        .executableTarget(
            name: "trm-bench", dependencies: ["Runtime", "GraphIR", "CLISupport", "CMallocCounter", "Trainer", "Tasks", "TRMCore"]),

        // Test-only code shared by the test targets: sample graphs, FIFO readers, official dataset folders.
        .target(name: "TestSupport", dependencies: ["GraphIR", "Tasks", "TRMCore"], path: "Tests/TestSupport"),

        .testTarget(name: "TRMCoreTests", dependencies: ["TRMCore", "TestSupport"]),
        .testTarget(name: "GraphIRTests", dependencies: ["GraphIR", "TRMCore", "TestSupport"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "TRMCore", "TestSupport"]),
        .testTarget(name: "CompilerTests", dependencies: ["Compiler", "Runtime", "GraphIR", "Trainer", "TRMCore", "TestSupport"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks", "TRMCore", "TestSupport"]),
        .testTarget(name: "TrainerTests", dependencies: ["Trainer", "GraphIR", "Runtime", "TRMCore", "TestSupport"]),
        .testTarget(name: "CLISupportTests", dependencies: ["CLISupport", "TRMCore"]),
        .testTarget(name: "EndToEndTests", dependencies: ["GraphIR", "Tasks", "TRMCore", "TestSupport"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets", "GraphIR", "Runtime", "Tasks", "TRMCore"]),
    ],
    swiftLanguageModes: [.v5]
)

// The libFuzzer binary exists only in fuzzing builds (`make fuzz`): libFuzzer supplies its `main`,
// so it cannot link into an ordinary build.
if ProcessInfo.processInfo.environment["TRM_FUZZ"] == "1" {
    package.products.append(.executable(name: "trm-fuzz", targets: ["trm-fuzz"]))
    package.targets.append(
        .executableTarget(
            name: "trm-fuzz", dependencies: ["FuzzTargets"], path: "Fuzz/Harness",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}
