import CLISupport
import Runtime

let usage = """
    trm-train: train Tiny Recursive Models (and their Mamba-2 hybrids) and write checkpoints.

    USAGE: trm-train [train] --task T --preset P [options] -o model.ckpt
           trm-train init --preset P --task T [options] -o model.ckpt
           trm-train curve model.ckpt.metrics.jsonl -o curve.svg

    COMMANDS:
      train   train a model (the default when the first argument is an option)
      init    write a freshly initialised checkpoint for a preset and task
      eager   run a checkpoint with the trainer's eager forward (reference outputs for trm-run)
      curve   draw a run's training curve (SVG) again from its metrics log

    Run 'trm-train train --help' or 'trm-train init --help' for a command's options.
    """

BlasBuffers.startWithoutOpenBLASThreads()
let commands: [String: ([String]) throws -> Void] = [
    "train": TrainCommand.run, "init": InitCommand.run, "eager": EagerCommand.run, "curve": CurveCommand.run,
]
if let first = CommandLine.arguments.dropFirst().first, first.hasPrefix("--"), !["--help", "--version"].contains(first) {
    runCommand("trm-train") { try TrainCommand.run(Array(CommandLine.arguments.dropFirst())) }
}
runSubcommands("trm-train", usage: usage, commands)
