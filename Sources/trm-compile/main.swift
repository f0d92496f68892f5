import CLISupport
import Compiler
import Foundation
import GraphIR
import Runtime
import TRMCore
import Tasks

let options: [Arguments.Option] = [
    .init("output", "FILE", short: "o", help: "compiled model to write (required)"),
    .init("config", "FILE", help: "an official run's all_config.yaml (default: the one beside the checkpoint)"),
    .init("dataset", "DIR", help: "an official run's dataset folder: sizes from test/dataset.json, names from identifiers.json"),
    .init("task", "TASK", help: "arc, sudoku or maze, when the model's sizes and data paths do not tell"),
    .init("no-fuse", help: "skip the fusion passes (folding and dead-code elimination still run)"),
    .init(
        "external-threshold", "BYTES",
        help:
            "initializers of at least BYTES go to the sidecar FILE.data beside the model (default \(ExternalData.defaultThreshold); 0: all of them)"
    ),
    .init("no-external-data", help: "keep every initializer inside the .trmg (at most 2 GiB)"),
    .init("quiet", short: "q", help: "print nothing but errors"),
    .init("help", short: "h", help: "show this help"),
]

let usage = """
    trm-compile: compile a checkpoint into a static step graph (.trmg, an ONNX-compatible file).

    USAGE: trm-compile CHECKPOINT -o model.trmg [--config all_config.yaml] [--dataset DATA_DIR] [--task TASK]
                       [--no-fuse] [--external-threshold BYTES | --no-external-data] [--quiet]

    CHECKPOINT is a trm checkpoint (model.ckpt, from trm-train), or an official TinyRecursiveModels run:
    its checkpoint directory (the step_N with the highest N and all_config.yaml), one step_N file, or a
    safetensors file with the official tensor names. For an official run the architecture comes from
    all_config.yaml (the arch section: trm.py's TRM, attention or mlp_t), vocab_size, seq_len and
    num_puzzle_identifiers from DATA_DIR/test/dataset.json or else the tensors, the identifier names from
    DATA_DIR/identifiers.json, and the task from the sizes, the run's data paths or --task.

    Lowers one ACT step with the H_cycles × (L_cycles + 1) recursion unrolled, runs constant folding,
    the fusion passes (AddRMSNorm, FusedAttention, Mamba2ScanGate, SwiGLU epilogue) and dead-code
    elimination, plans the activation memory and writes the file atomically. Large initializers (the
    puzzle table) go to an external-data sidecar, model.trmg.data, which must stay beside the model;
    the two files are replaced together. Written to a device or FIFO, the model is one stream.

    OPTIONS:
    \(Arguments.helpText(options))
    """

/// What `--dataset DIR` tells the compiler, read by Tasks' one reader of official folders.
func datasetSizes(_ directory: String) throws -> OfficialDatasetSizes {
    let (m, identifiers) = try OfficialDataset.readHeader(path: directory)
    return OfficialDatasetSizes(
        directory: directory, vocab: m.vocabSize, seqLen: m.seqLen, numPuzzleIds: m.numPuzzleIdentifiers, identifiers: identifiers)
}

func megabytes(_ b: Int) -> String { String(format: "%.1f MB", Double(b) / 1e6) }
func ratio(_ a: Int, _ b: Int) -> String { String(format: "%.0f", Double(a) / Double(max(b, 1))) }

BlasBuffers.startWithoutOpenBLASThreads()
runCommand("trm-compile") {
    guard let args = try Arguments.parse(Array(CommandLine.arguments.dropFirst()), options: options, usage: usage) else { return }
    guard args.positional.count == 1 else { throw UsageError("expected one checkpoint path") }
    guard let output = args.string("output") else { throw UsageError("-o/--output is required") }
    let threshold = try args.int("external-threshold", in: 0...Int.max) ?? ExternalData.defaultThreshold
    guard !(args.has("no-external-data") && args.string("external-threshold") != nil) else {
        throw UsageError("--external-threshold and --no-external-data exclude each other")
    }
    let official = OfficialOptions(
        config: args.string("config"), dataset: try args.string("dataset").map(datasetSizes), task: try args.choice("task", TaskKind.self))
    let sidecar = args.has("no-external-data") ? nil : try TrmgWriter.sidecarPath(for: output)
    try OutputFile.checkOutputs(
        [output] + (sidecar.map { [$0] } ?? []), inputs: OfficialCheckpoint.inputFiles(path: args.positional[0], options: official))
    let start = Date()
    // Consumed: the compile keeps one copy of the weights, not the checkpoint's as well.
    let (checkpoint, run) = try Checkpoint.load(path: args.positional[0], official: official)
    let taskJSON = checkpoint.taskJSON
    let (model, r) = try TRMCompiler.compile(consume checkpoint, fuse: !args.has("no-fuse"))
    let written = try TrmgWriter.write(model, to: output, externalThreshold: args.has("no-external-data") ? nil : threshold)
    if args.has("quiet") { return }
    let c = r.config
    let fused = r.fusedOps.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }
    print(
        """
        wrote \(output)\(written.map { " and its external data \($0)" } ?? "")
          sub-layers   \(c.sublayers.map(\.rawValue).joined(separator: ", ")), H_cycles \(c.hCycles) × (L_cycles \(c.lCycles) + 1) unrolled
          params       \(c.parameterCount) (weights in file \(megabytes(r.weightBytes)))
          nodes        \(r.nodesBefore) lowered -> \(r.nodesAfter) after passes
          fused ops    \(fused.isEmpty ? "none" : fused.joined(separator: " "))
          FLOPs        \(String(format: "%.2f", r.flopsPerSample / 1e9)) GFLOP per sample per ACT step
          arena        \(megabytes(r.arenaBytesPerSample)) per sample; naive sum \(megabytes(r.loweredNaiveBytesPerSample)) lowered (\(ratio(r.loweredNaiveBytesPerSample, r.arenaBytesPerSample))× larger), \(megabytes(r.naiveBytesPerSample)) after passes (\(ratio(r.naiveBytesPerSample, r.arenaBytesPerSample))×)
          time         \(String(format: "%.2f", Date().timeIntervalSince(start))) s
        """)
    if let run {
        print("  official     \(terminalEscaped(run.tensorFile)) with \(terminalEscaped(run.configFile)), task \(taskJSON)")
        for (what, list) in [("tensors", run.ignoredTensors), ("fields", run.ignoredFields)] where !list.isEmpty {
            print("  ignored      \(what): \(list.map { terminalEscaped($0) }.joined(separator: ", "))")
        }
    }
}
