import Foundation
import Tasks

/// A self-contained SVG of a run's metrics (written beside the checkpoint): the training loss on a
/// log scale, and the accuracies against the optimizer step — exact and token accuracy of the
/// training slots, and of every held-out evaluation (drawn with a dot per evaluation). No scripts,
/// no external fonts, so it opens in any browser.
public enum TrainingCurve {
    public typealias Series = SVGChart.Series

    /// The two panels' series drawn from `records`: train records give the loss and the training
    /// accuracies, eval records the held-out exact and token accuracy.
    public static func series(_ records: [MetricsRecord]) -> (loss: [Series], accuracy: [Series]) {
        func pick(_ kind: MetricsRecord.Kind, _ key: String) -> [(x: Double, y: Double)] {
            records.filter { $0.kind == kind }.compactMap { r in r[key].map { (Double(r.step), $0) } }.filter { $0.y.isFinite }
        }
        let loss = [
            Series(label: "train loss", colour: "#1f77b4", points: pick(.train, "loss").filter { $0.y > 0 }),
            Series(label: "train lm loss", colour: "#aec7e8", points: pick(.train, "lm_loss").filter { $0.y > 0 }),
        ]
        let accuracy = [
            Series(label: "train exact", colour: "#ff7f0e", points: pick(.train, "exact")),
            Series(label: "train token acc", colour: "#ffbb78", points: pick(.train, "token_acc")),
            Series(label: "held-out exact", colour: "#2ca02c", points: pick(.eval, "exact"), dots: true),
            Series(label: "held-out token acc", colour: "#98df8a", points: pick(.eval, "token_acc"), dots: true, dashed: true),
        ]
        return (loss, accuracy)
    }

    /// The SVG document.
    public static func svg(_ records: [MetricsRecord], title: String) -> String {
        let (loss, accuracy) = series(records)
        let steps = SVGChart.Axis.steps(upTo: records.map(\.step).max() ?? 1, title: "optimizer step")
        let lossPanel = SVGChart(
            title: "loss (log scale)", x: steps, y: .decades(covering: loss.flatMap { $0.points.map(\.y) }, title: "loss"), top: 44)
        let accuracyPanel = SVGChart(title: "accuracy", x: steps, y: .percent(title: "accuracy"), top: 314)
        return SVGChart.document(width: 820, height: 580, title: title, body: lossPanel.svg(loss) + accuracyPanel.svg(accuracy))
    }
}
