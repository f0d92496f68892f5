import Foundation

/// The pass@K curve of an evaluation as a self-contained SVG (`trm-run --plot`): pass@K in percent
/// against K on a logarithmic axis (whole decades up to the largest K), a dot per K labelled with
/// the puzzles solved at that K ("3/4"; fractional when puzzles with several test pairs are partly
/// solved).
public enum PassAtKPlot {
    /// The points of the curve: for each K of `pass.ks`, the rate (0...1) and the puzzles solved.
    public static func points(_ pass: PassAtK) -> [(k: Int, rate: Double, solved: Double)] {
        pass.ks.map { k in (k, pass.rate(k), pass.scores[k] ?? 0) }
    }

    /// The label of the point at K: solved puzzles of the scored ones.
    public static func label(solved: Double, puzzles: Int) -> String { "\(Markup.count(solved))/\(puzzles)" }

    /// The chart (one panel, its frame at `top`), its series and its point labels.
    public static func panel(_ pass: PassAtK, top: Double = 44) -> (
        chart: SVGChart, series: [SVGChart.Series], labels: [SVGChart.PointLabel]
    ) {
        let curve = points(pass)
        let maxK = Double(pass.ks.last ?? 1)
        let hi = pow(10, max(1, ceil(log10(maxK))))
        let xAxis = SVGChart.Axis(lo: 1, hi: hi, logarithmic: true, ticks: [], title: "K (candidates per test pair, log scale)")
        var chart = SVGChart(title: "pass@K (%)", x: xAxis, y: .percent(title: "pass@K"), top: top)
        // Every K is labelled, and every decade; a label that would touch the previous one is left out.
        let decades = (0...Int(log10(hi).rounded())).map { Int(pow(10, Double($0)).rounded()) }
        var lastX = -Double.infinity
        for k in Array(Set(pass.ks + decades)).sorted() {
            let x = chart.px(Double(k))
            guard x - lastX >= 18 else { continue }
            chart.x.ticks.append((Double(k), String(k)))
            lastX = x
        }
        let series = [
            SVGChart.Series(
                label: "pass@K", colour: "#1f77b4", points: curve.map { (Double($0.k), $0.rate) }, dots: true)
        ]
        // Labels above the dots (below them near the top of the frame); a label close to the
        // previous one goes one line further out, so both stay readable.
        var labels: [SVGChart.PointLabel] = []
        var previous: (x: Double, level: Int)? = nil
        for p in curve {
            let x = chart.px(Double(p.k))
            let level = previous.map { x - $0.x < 34 ? 1 - $0.level : 0 } ?? 0
            let nearTop = chart.py(p.rate) - 21 < chart.top + 4
            let dy = nearTop ? [16.0, 29][level] : [-8.0, -21][level]
            labels.append(.init(x: Double(p.k), y: p.rate, text: label(solved: p.solved, puzzles: pass.puzzles), dy: dy))
            previous = (x, level)
        }
        return (chart, series, labels)
    }

    /// The SVG document, titled `title`; a note says so when no puzzle was scored.
    public static func svg(_ pass: PassAtK, title: String) -> String {
        let (chart, series, labels) = panel(pass)
        var body = chart.svg(series, labels: labels)
        let note =
            pass.puzzles == 0
            ? "no scored puzzles (none has its solutions)"
            : "labels: puzzles solved of \(pass.puzzles) scored (fractional credit for several test pairs)"
        body += "<text x=\"70\" y=\"\(Int(chart.top + chart.height + 56))\" font-size=\"11\">\(Markup.escape(note))</text>\n"
        return SVGChart.document(width: 760, height: Int(chart.top + chart.height + 70), title: title, body: body)
    }
}
