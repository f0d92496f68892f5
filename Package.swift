// swift-tools-version: 6.0
// trm: ahead-of-time compiled inference and training for Tiny Recursive Models (TRM) and their
// Mamba-2 hybrids. No Swift package dependencies; links protobuf-c and OpenBLAS (Debian -dev packages).
import PackageDescription

let package = Package(
    name: "trm",
    products: [
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
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c",
                       providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // protoc-c output for Proto/trmg.proto (committed; `make proto` regenerates it).
        .target(name: "TRMGProto", dependencies: ["CProtobufC"],
                cSettings: [.unsafeFlags(["-Wno-everything"])]),

        .target(name: "GraphIR", dependencies: ["TRMGProto", "CProtobufC"]),
        // Vectorised exp-based loops (C, so they auto-vectorise; AVX2 and baseline clones).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        .target(name: "Runtime", dependencies: ["GraphIR", "COpenBLAS", "CKernels"]),
        .target(name: "TRMRuntimeC", dependencies: ["Runtime", "GraphIR"]),
        .target(name: "Compiler", dependencies: ["GraphIR", "Runtime"]),
        .target(name: "Tasks", dependencies: ["GraphIR"]),
        .target(name: "Trainer", dependencies: ["GraphIR", "Runtime", "Tasks", "COpenBLAS", "CKernels"]),
        .target(name: "CLISupport", dependencies: []),

        .executableTarget(name: "trm-train", dependencies: ["Trainer", "GraphIR", "CLISupport"]),
        .executableTarget(name: "trm-info", dependencies: ["GraphIR", "CLISupport"]),
        .executableTarget(name: "trm-compile", dependencies: ["Compiler", "GraphIR", "CLISupport"]),
        .executableTarget(name: "trm-run", dependencies: ["Runtime", "GraphIR", "CLISupport", "Tasks"]),
        .executableTarget(name: "trm-data", dependencies: ["Tasks", "GraphIR", "CLISupport"]),
        .target(name: "CMallocCounter"),
        .executableTarget(name: "trm-bench", dependencies: ["Runtime", "GraphIR", "CLISupport", "CMallocCounter", "Trainer", "Tasks"]),

        .testTarget(name: "GraphIRTests", dependencies: ["GraphIR"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime"]),
        .testTarget(name: "CompilerTests", dependencies: ["Compiler", "Runtime", "GraphIR", "Trainer"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks", "GraphIR"]),
        .testTarget(name: "TrainerTests", dependencies: ["Trainer", "GraphIR", "Runtime"]),
        .testTarget(name: "CLISupportTests", dependencies: ["CLISupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["GraphIR"]),
    ],
    swiftLanguageModes: [.v5]
)
