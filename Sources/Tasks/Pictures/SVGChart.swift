import Foundation

/// One panel of an SVG chart: a frame with grid lines, two axes with ticks and titles, series drawn
/// as polylines (with a dot per point when asked), text labels at data points, and a legend to the
/// right of the frame. The training curve and the pass@K plot are drawn with it; `document` wraps
/// panels into a self-contained SVG file (no scripts, no external fonts or images).
public struct SVGChart {
    /// A linear or logarithmic axis from `lo` to `hi`, with labelled ticks.
    public struct Axis {
        public var lo: Double
        public var hi: Double
        public var logarithmic: Bool
        public var ticks: [(value: Double, label: String)]
        public var title: String

        public init(lo: Double, hi: Double, logarithmic: Bool = false, ticks: [(value: Double, label: String)], title: String) {
            precondition(hi > lo && (!logarithmic || lo > 0), "SVGChart.Axis: bad range \(lo)...\(hi)")
            self.lo = lo
            self.hi = hi
            self.logarithmic = logarithmic
            self.ticks = ticks
            self.title = title
        }

        /// Where `v` falls between `lo` (0) and `hi` (1).
        public func fraction(_ v: Double) -> Double {
            logarithmic ? (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) : (v - lo) / (hi - lo)
        }

        /// 0 to 100 %, ticks every 25 %.
        public static func percent(title: String) -> Axis {
            Axis(lo: 0, hi: 1, ticks: (0...4).map { (Double($0) / 4, "\($0 * 25)%") }, title: title)
        }

        /// 0 to `max` (at least 1), ticks at the quarters labelled as whole numbers.
        public static func steps(upTo max: Int, title: String) -> Axis {
            let hi = Double(Swift.max(1, max))
            return Axis(
                lo: 0, hi: hi, ticks: (0...4).map { (hi * Double($0) / 4, String(Int((hi * Double($0) / 4).rounded()))) }, title: title)
        }

        /// A logarithmic axis over whole decades covering the positive `values` (at least one
        /// decade), with five ticks evenly spaced in log space.
        public static func decades(covering values: [Double], title: String) -> Axis {
            let positive = values.filter { $0 > 0 && $0.isFinite }
            let lo = floor(log10(positive.min() ?? 0.1)), hi = Swift.max(ceil(log10(positive.max() ?? 1)), lo + 1)
            let ticks = (0...4).map { i -> (value: Double, label: String) in
                let v = pow(10, lo + (hi - lo) * Double(i) / 4)
                return (v, String(format: "%.3g", v))
            }
            return Axis(lo: pow(10, lo), hi: pow(10, hi), logarithmic: true, ticks: ticks, title: title)
        }
    }

    /// A line through points (x ascending), in one colour.
    public struct Series {
        public var label: String
        public var colour: String
        public var points: [(x: Double, y: Double)]
        /// A dot on every point (sparse data such as evaluations); a single point always gets one.
        public var dots: Bool
        public var dashed: Bool

        public init(label: String, colour: String, points: [(x: Double, y: Double)], dots: Bool = false, dashed: Bool = false) {
            self.label = label
            self.colour = colour
            self.points = points
            self.dots = dots
            self.dashed = dashed
        }
    }

    /// Text at a data point, `dy` pixels below it (negative: above).
    public struct PointLabel {
        public var x: Double
        public var y: Double
        public var text: String
        public var dy: Double

        public init(x: Double, y: Double, text: String, dy: Double = -8) {
            self.x = x
            self.y = y
            self.text = text
            self.dy = dy
        }
    }

    public var title: String
    public var x: Axis
    public var y: Axis
    /// The frame's position and size in the document, in pixels.
    public var left = 70.0
    public var top = 40.0
    public var width = 560.0
    public var height = 200.0

    public init(title: String, x: Axis, y: Axis, top: Double = 40) {
        self.title = title
        self.x = x
        self.y = y
        self.top = top
    }

    /// The pixel column of data value `v` on the x axis (clamped to the frame).
    public func px(_ v: Double) -> Double { left + width * min(max(x.fraction(v), 0), 1) }
    /// The pixel row of data value `v` on the y axis (clamped to the frame).
    public func py(_ v: Double) -> Double { top + height - height * min(max(y.fraction(v), 0), 1) }

    /// The panel as an SVG group: frame, ticks, axis titles, the series, the labels and the legend.
    /// Points outside a logarithmic axis's range (zero, negative) are left out.
    public func svg(_ series: [Series], labels: [PointLabel] = []) -> String {
        let c = Markup.coordinate
        var s = "<g>\n<text x=\"\(c(left))\" y=\"\(c(top - 8))\" font-weight=\"bold\">\(Markup.escape(title))</text>\n"
        s += "<rect x=\"\(c(left))\" y=\"\(c(top))\" width=\"\(c(width))\" height=\"\(c(height))\" fill=\"none\" stroke=\"#999\"/>\n"
        for tick in y.ticks {
            let ty = py(tick.value)
            s += "<line x1=\"\(c(left))\" y1=\"\(c(ty))\" x2=\"\(c(left + width))\" y2=\"\(c(ty))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(c(left - 6))\" y=\"\(c(ty + 4))\" text-anchor=\"end\">\(Markup.escape(tick.label))</text>\n"
        }
        for tick in x.ticks {
            let tx = px(tick.value)
            s += "<line x1=\"\(c(tx))\" y1=\"\(c(top))\" x2=\"\(c(tx))\" y2=\"\(c(top + height))\" stroke=\"#f3f3f3\"/>"
            s += "<text x=\"\(c(tx))\" y=\"\(c(top + height + 16))\" text-anchor=\"middle\">\(Markup.escape(tick.label))</text>\n"
        }
        s += "<text x=\"\(c(left + width / 2))\" y=\"\(c(top + height + 34))\" text-anchor=\"middle\">\(Markup.escape(x.title))</text>\n"
        s +=
            "<text transform=\"translate(\(c(left - 52)),\(c(top + height / 2))) rotate(-90)\" text-anchor=\"middle\">"
            + "\(Markup.escape(y.title))</text>\n"
        for (i, line) in series.enumerated() {
            let points = line.points.filter { p in
                p.x.isFinite && p.y.isFinite && (!x.logarithmic || p.x > 0) && (!y.logarithmic || p.y > 0)
            }
            let dash = line.dashed ? " stroke-dasharray=\"5,3\"" : ""
            if !points.isEmpty {
                let pts = points.map { c(px($0.x)) + "," + c(py($0.y)) }.joined(separator: " ")
                s += "<polyline fill=\"none\" stroke=\"\(line.colour)\" stroke-width=\"1.5\"\(dash) points=\"\(pts)\"/>\n"
                if line.dots || points.count == 1 {
                    for p in points { s += "<circle cx=\"\(c(px(p.x)))\" cy=\"\(c(py(p.y)))\" r=\"3\" fill=\"\(line.colour)\"/>" }
                    s += "\n"
                }
            }
            let ly = top + 14 + 16 * Double(i)
            s +=
                "<line x1=\"\(c(left + width + 10))\" y1=\"\(c(ly - 4))\" x2=\"\(c(left + width + 28))\" y2=\"\(c(ly - 4))\" "
                + "stroke=\"\(line.colour)\" stroke-width=\"2\"\(dash)/>"
            s += "<text x=\"\(c(left + width + 32))\" y=\"\(c(ly))\">\(Markup.escape(line.label))</text>\n"
        }
        for label in labels {
            s +=
                "<text class=\"point-label\" x=\"\(c(px(label.x)))\" y=\"\(c(py(label.y) + label.dy))\" text-anchor=\"middle\" "
                + "font-size=\"11\">\(Markup.escape(label.text))</text>\n"
        }
        return s + "</g>\n"
    }

    /// A complete SVG file: a white page of `width` × `height` with `title` centred at the top, then
    /// `body` (panels' groups).
    public static func document(width: Int, height: Int, title: String, body: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        font-family="sans-serif" font-size="12">
        <rect width="\(width)" height="\(height)" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(Markup.escape(title))</text>

        """ + body + "</svg>\n"
    }
}
