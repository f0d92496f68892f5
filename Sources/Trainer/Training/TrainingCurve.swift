import Foundation

/// A self-contained SVG of a run's metrics (written beside the checkpoint): the training loss on a
/// log scale, and the exact accuracy of training slots and of held-out evaluations, against the
/// optimizer step. No scripts, no external fonts, so it opens in any browser.
public enum TrainingCurve {
    public struct Series {
        public var label: String
        public var colour: String
        public var points: [(x: Double, y: Double)]
    }

    /// The two panels' series drawn from `records`.
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
            Series(label: "eval exact", colour: "#2ca02c", points: pick(.eval, "exact")),
        ]
        return (loss, accuracy)
    }

    /// The SVG document.
    public static func svg(_ records: [MetricsRecord], title: String) -> String {
        let (loss, accuracy) = series(records)
        let maxStep = max(1, records.map(\.step).max() ?? 1)
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="760" height="560" viewBox="0 0 760 560" font-family="sans-serif" font-size="12">
            <rect width="760" height="560" fill="white"/>
            <text x="380" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

            """
        out += panel(loss, top: 40, title: "loss (log scale)", maxStep: maxStep, logScale: true)
        out += panel(accuracy, top: 300, title: "accuracy", maxStep: maxStep, logScale: false)
        return out + "</svg>\n"
    }

    static func panel(_ series: [Series], top: Double, title: String, maxStep: Int, logScale: Bool) -> String {
        let left = 70.0, width = 560.0, height = 200.0
        let ys = series.flatMap { $0.points.map(\.y) }
        var lo: Double, hi: Double
        if logScale {
            lo = log10(ys.min() ?? 0.1); hi = log10(ys.max() ?? 1)
            lo = floor(lo); hi = max(ceil(hi), lo + 1)
        } else {
            lo = 0; hi = 1
        }
        func px(_ x: Double) -> Double { left + width * x / Double(maxStep) }
        func py(_ y: Double) -> Double {
            let v = logScale ? log10(y) : y
            return top + height - height * (v - lo) / (hi - lo)
        }
        var s = "<g>\n<text x=\"\(left)\" y=\"\(top - 6)\">\(escape(title))</text>\n"
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#999\"/>\n"
        for i in 0...4 {
            let v = lo + (hi - lo) * Double(i) / 4, y = top + height - height * Double(i) / 4
            let label = logScale ? String(format: "%.3g", pow(10, v)) : String(format: "%.0f%%", 100 * v)
            s += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + width)\" y2=\"\(y)\" stroke=\"#eee\"/>"
            s += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(label)</text>\n"
        }
        for i in 0...4 {
            let step = Double(maxStep) * Double(i) / 4
            s += "<text x=\"\(px(step))\" y=\"\(top + height + 16)\" text-anchor=\"middle\">\(Int(step.rounded()))</text>\n"
        }
        s += "<text x=\"\(left + width / 2)\" y=\"\(top + height + 32)\" text-anchor=\"middle\">optimizer step</text>\n"
        for (i, line) in series.enumerated() {
            if !line.points.isEmpty {
                let pts = line.points.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
                s += "<polyline fill=\"none\" stroke=\"\(line.colour)\" stroke-width=\"1.5\" points=\"\(pts)\"/>\n"
                if line.points.count == 1 {
                    s +=
                        String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" ", px(line.points[0].x), py(line.points[0].y))
                        + "fill=\"\(line.colour)\"/>\n"
                }
            }
            let ly = top + 14 + 16 * Double(i)
            s +=
                "<line x1=\"\(left + width + 10)\" y1=\"\(ly - 4)\" x2=\"\(left + width + 28)\" y2=\"\(ly - 4)\" stroke=\"\(line.colour)\" stroke-width=\"2\"/>"
            s += "<text x=\"\(left + width + 32)\" y=\"\(ly)\">\(escape(line.label))</text>\n"
        }
        return s + "</g>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;")
    }
}
