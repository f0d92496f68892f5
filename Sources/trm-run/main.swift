import CLISupport
import Foundation
import GraphIR
import Runtime

let options: [Arguments.Option] = [
    .init("task", "T", help: "arc, sudoku or maze: build queries, vote, print pass@K (task mode)"),
    .init(
        "data", "PATH",
        help:
            "task data: ARC JSON file or folder, Sudoku/Maze CSV, official dataset folder (default: ARC \(DataLocation.helpNote(DataLocation.arcFile)); Sudoku/Maze generated)"
    ),
    .init("split", "S", help: "ARC split: train or eval (default eval)"),
    .init("limit", "N", help: "only the first N puzzles"),
    .init("puzzles", "LIST", help: "only these puzzles (comma-separated names; ARC, or <task>-<row> in an official folder)"),
    .init("num-aug", "N", help: "augmented versions per puzzle beyond the original (default: ARC 7, Sudoku/Maze 0)"),
    .init("k", "LIST", help: "K values of pass@K (default 1,2,5,10,100,1000)"),
    .init("json", "FILE", help: "write the metrics as JSON"),
    .init("submission", "FILE", help: "ARC: write a Kaggle submission.json"),
    .init("plot", "FILE", help: "write the pass@K curve, with the puzzles solved at each K, as an SVG"),
    .init("report", "DIR", help: "write DIR/index.html: each puzzle's input, truth, two attempts and top candidates with their votes"),
    .init("show", "N", help: "render N puzzles with their prediction (in colour on a terminal, see --color)"),
    ColorChoice.option,
    .init("seed", "S", help: "seed for augmentation and generated test sets (default 0)"),
    .init("candidates", "FILE", help: "run one shard of the query list and write its candidates to FILE (resumes it); see merge"),
    .init("shard", "I/N", help: "with --candidates: shard I of N, I from 0 (default: the Slurm array task, else 0/1)"),
    .init("shard-count", "N", help: "with --candidates in a Kubernetes Indexed Job: N shards, the index from JOB_COMPLETION_INDEX"),
    .init("checkpoint-every", "N", help: "with --candidates: rewrite FILE after every N batches of queries (default 1)"),
    .init("inputs", "tokens.npy", help: "raw mode: int tokens [N, L]"),
    .init("puzzle-ids", "ids.npy", help: "raw mode: int puzzle ids [N] (default: all 0)"),
    .init("out", "DIR", help: "raw mode: directory for logits.npy, preds.npy, q_halt.npy, steps.npy"),
    .init("batch", "B", help: "batch slots (default 8)"),
    .init("threads", "T", help: "threads (default: all cores)"),
    .init("halting", "MODE", help: "fixed (default: always halt_max_steps) or adaptive (q_halt > 0 halts, slots refill)"),
    .init(
        "precision", "P", help: "fp32 (default) or bf16: matrix products on bf16 weights with fp32 sums (needs AVX512_BF16, else emulated)"),
    .init("steps", "N", help: "ACT step limit (default: the model's halt_max_steps)"),
    .init("profile", help: "print the time spent per op after the run"),
    .init("quiet", short: "q", help: "no progress or summary"),
    .init("help", short: "h", help: "show this help"),
]

let usage = """
    trm-run: run a compiled model (.trmg) with the ACT loop.

    USAGE: trm-run model.trmg --task arc|sudoku|maze [--data PATH] [--limit N] [--num-aug N] [--k LIST]
                   [--json FILE] [--submission FILE] [--plot FILE.svg] [--report DIR] [--show N] [--color WHEN]
                   [--batch B] [--threads T] [--halting MODE] [--precision fp32|bf16]
           trm-run model.trmg --inputs tokens.npy [--puzzle-ids ids.npy] --out DIR [--batch B] ...
           trm-run model.trmg --task T ... --candidates FILE [--shard I/N] [--checkpoint-every N]
           trm-run merge SHARD.cand... [--json FILE] [--submission FILE] [--dry-run]
           trm-run status SHARD.cand...

    Task mode builds every (puzzle, augmentation) query, runs them in full batches, undoes each
    augmentation, votes (count, then mean sigmoid(q_halt)) and prints pass@K (and exact accuracy
    for Sudoku and Maze). Raw mode writes the final ACT step's outputs as .npy files.
    With --candidates, the run is one shard of the query list (contiguous, balanced ranges) and
    writes each query's candidate to FILE, checkpointed atomically; a rerun resumes it. `merge`
    votes and scores the shards' files exactly as the unsharded run; `status` shows their progress.

    OPTIONS:
    \(Arguments.helpText(options))
    """

/// Settings shared by both modes.
struct RunSettings {
    var batch: Int
    var threads: Int
    var halting: Halting
    var precision: Precision
    var steps: Int?
    var quiet: Bool
    var profile: Bool
    /// Whether --show colours its grids (`--color`, resolved for stdout).
    var colour: Bool
}

BlasBuffers.startWithoutOpenBLASThreads()
// `merge` and `status` take candidate files, not a model (a model file of that name still runs).
if let first = CommandLine.arguments.dropFirst().first, ["merge", "status"].contains(first), !FileManager.default.fileExists(atPath: first)
{
    let rest = Array(CommandLine.arguments.dropFirst(2))
    runCommand("trm-run \(first)") { try first == "merge" ? MergeCommand.merge(rest) : MergeCommand.status(rest) }
}
runCommand("trm-run") {
    guard let args = try Arguments.parse(Array(CommandLine.arguments.dropFirst()), options: options, usage: usage) else { return }
    guard args.positional.count == 1 else { throw UsageError("expected one model path") }
    let settings = RunSettings(
        batch: try args.int("batch", in: 1...Session.maxBatch) ?? 8,
        threads: try args.int("threads", in: 1...Session.maxThreads) ?? ProcessInfo.processInfo.activeProcessorCount,
        halting: try args.choice("halting", Halting.self) ?? .fixed, precision: try args.choice("precision", Precision.self) ?? .fp32,
        steps: try args.int("steps", in: 1...ModelLimits.maxHaltSteps), quiet: args.has("quiet"), profile: args.has("profile"),
        colour: try ColorChoice.forStandardOutput(args))
    if args.string("task") != nil, args.string("inputs") != nil { throw UsageError("use either --task or --inputs, not both") }
    let model = try LoadedModel(path: args.positional[0])
    if settings.precision == .bf16, !BF16Gemm.isSupported {
        printError("note: \(settings.precision.execution): the same rounding on a portable path, many times slower")
    }
    if args.string("task") != nil {
        try TaskMode.run(args, model: model, settings: settings)
    } else {
        try RawMode.run(args, model: model, common: settings)
    }
}
