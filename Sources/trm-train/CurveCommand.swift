import CLISupport
import Foundation
import Trainer
import TRMCore

/// `trm-train curve model.ckpt.metrics.jsonl -o curve.svg`: draws a run's training curve again from its
/// metrics log, as training draws `model.ckpt.curve.svg` (the training and held-out curves).
enum CurveCommand {
    static let options: [Arguments.Option] = [
        .init("output", "FILE", short: "o", help: "the SVG to write (required)"),
        .init("title", "TEXT", help: "the title (default: the metrics file's name)"),
        Subcommand.helpOption,
    ]

    static let usage = Subcommand.usage(
        """
        USAGE: trm-train curve model.ckpt.metrics.jsonl -o curve.svg [--title TEXT]

        Draws the training curve of a run from its metrics log: the loss, and the exact and token
        accuracy of the training slots and of every held-out evaluation.
        """, options: options)

    static func run(_ argv: [String]) throws {
        guard let args = try Arguments.parse(argv, options: options, usage: usage) else { return }
        guard args.positional.count == 1 else { throw UsageError("give exactly one metrics file") }
        guard let output = args.string("output") else { throw UsageError("-o FILE is required") }
        let path = args.positional[0]
        try OutputFile.checkOutputs([output], inputs: [path])
        let records = try MetricsLog.records(path: path)
        guard !records.isEmpty else { throw TRMError(.invalidInput, "\(path) holds no metrics records") }
        let title = args.string("title") ?? OutputFile.fileName(of: path)
        try AtomicFile.write(Array(TrainingCurve.svg(records, title: title).utf8), to: output)
    }
}
