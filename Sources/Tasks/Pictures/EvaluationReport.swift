import Foundation
import TRMCore

/// An evaluation as one self-contained HTML page (`trm-run --report DIR` writes DIR/index.html):
/// inline CSS, grids as HTML tables, the pass@K plot as inline SVG, no scripts and no network, so it
/// opens offline in any browser. At the top a summary (pass@K with the puzzles solved per K, and an
/// index of every puzzle with its verdict); then one section per puzzle: each test pair's input, the
/// truth, the two attempts (marked right or wrong) and the top-ranked candidates with their votes and
/// mean sigmoid(q_halt). Every name and title is escaped (`Markup.escape`); the page is well-formed XML.
public struct EvaluationReport {
    /// The file written in the report's directory.
    public static let indexName = "index.html"

    public var title: String
    /// Lines shown under the title (what was run: puzzles, queries, halting, precision, time).
    public var notes: [String]
    public var evaluation: Evaluation
    public var style: GridStyle
    /// Ranked candidates drawn per test pair; the rest are counted.
    public var shownCandidates: Int

    public init(title: String, notes: [String] = [], evaluation: Evaluation, style: GridStyle, shownCandidates: Int = 5) {
        precondition(shownCandidates >= 1, "EvaluationReport: shownCandidates must be positive")
        self.title = title
        self.notes = notes
        self.evaluation = evaluation
        self.style = style
        self.shownCandidates = shownCandidates
    }

    /// The page.
    public func html() -> String {
        let verdicts = evaluation.puzzles.map { verdict(of: $0) }
        var s = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <title>\(Markup.escape(title))</title>
            <style>
            \(Self.css)
            \(style.css)
            </style>
            </head>
            <body>
            <h1>\(Markup.escape(title))</h1>

            """
        for note in notes { s += "<p class=\"note\">\(Markup.escape(note))</p>\n" }
        s += summary(verdicts)
        for (i, puzzle) in evaluation.puzzles.enumerated() { s += section(i, puzzle, verdicts[i]) }
        return s + "</body>\n</html>\n"
    }

    /// The pass@K table, the plot and the index of puzzles.
    func summary(_ verdicts: [Verdict]) -> String {
        let pass = evaluation.passAtK()
        var s = "<section class=\"summary\" id=\"summary\">\n<h2>pass@K</h2>\n"
        if pass.puzzles == 0 {
            s += "<p>No puzzle has its solutions: nothing is scored.</p>\n"
        } else {
            s += "<table class=\"passk\"><tr><th>K</th><th>pass@K</th><th>puzzles solved</th></tr>\n"
            for p in PassAtKPlot.points(pass) {
                s += "<tr><td class=\"k\">\(p.k)</td><td class=\"rate\">\(String(format: "%.2f%%", 100 * p.rate))</td>"
                s += "<td class=\"solved\">\(PassAtKPlot.label(solved: p.solved, puzzles: pass.puzzles))</td></tr>\n"
            }
            s += "</table>\n"
            s += PassAtKPlot.svg(pass, title: title)
        }
        s += "<h2>puzzles</h2>\n<ol class=\"index\">\n"
        for (i, puzzle) in evaluation.puzzles.enumerated() {
            s += "<li class=\"\(verdicts[i].cssClass)\"><a href=\"#puzzle-\(i)\">\(Markup.escape(puzzle.name))</a> "
            s += "<span class=\"verdict\">\(verdicts[i].text)</span></li>\n"
        }
        return s + "</ol>\n</section>\n"
    }

    static let css = """
        body{font-family:sans-serif;margin:16px 24px;color:#222;background:#fff}
        h1{font-size:22px}
        h2{font-size:17px;margin:6px 0}
        h3{font-size:14px;margin:10px 0 4px 0;font-weight:normal}
        p.note{margin:2px 0;color:#555}
        section.puzzle{border-top:2px solid #ccc;margin-top:20px;padding-top:6px}
        .row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
        figure{margin:0}
        figcaption{font-size:12px;margin-bottom:3px}
        table.grid{border-collapse:collapse;border:1px solid #777}
        table.grid td{width:13px;height:13px;min-width:13px;padding:0;border:1px solid #777;font-size:10px;text-align:center;line-height:13px}
        table.grid td.empty{width:auto;font-size:11px;color:#777;background:#fff}
        table.passk,table.candidates{border-collapse:collapse;margin:6px 0}
        table.passk>tbody>tr>*,table.candidates>tbody>tr>*{border:1px solid #ccc;padding:3px 8px;font-size:12px;vertical-align:top;text-align:left}
        table.candidates>tbody>tr>td.right{background:#e3f4e6}
        .right figcaption,.right .verdict,span.right,li.right .verdict{color:#1a7f37}
        .wrong figcaption,.wrong .verdict,span.wrong,li.wrong .verdict{color:#c62828}
        .partly .verdict,li.partly .verdict{color:#b26a00}
        ol.index{columns:3;font-size:12px}
        p.more{font-size:12px;color:#555}
        """

    /// Checks, before any work, that `path` can hold a report: an existing directory (links followed)
    /// in which `index.html` can be written, or a name still free in an existing, writable directory.
    /// Refuses a file, a device or any other non-directory in its place, and a dangling link.
    public static func checkDirectory(_ path: String) throws {
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw TRMError(.invalidInput, "the report directory \(path) exists and is not a directory")
            }
            try OutputFile.checkWritable(indexPath(in: path))
            return
        }
        guard errno == ENOENT || errno == ENOTDIR else {
            throw TRMError(.io, "cannot use \(path) as the report directory: \(String(cString: strerror(errno)))")
        }
        if lstat(path, &st) == 0 { throw TRMError(.invalidInput, "the report directory \(path) is a link to nothing") }
        let name = trimmed(path)
        let cut = name.lastIndex(of: "/")
        let parent = cut.map { $0 == name.startIndex ? "/" : String(name[..<$0]) } ?? "."
        guard stat(parent, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw TRMError(.io, "cannot create the report directory \(path): \(parent) is not a directory")
        }
        guard access(parent, W_OK) == 0 else {
            throw TRMError(.io, "cannot create the report directory \(path): \(parent) is not writable")
        }
    }

    /// The page's path in the report directory `path`.
    public static func indexPath(in path: String) -> String { trimmed(path) + "/" + indexName }

    /// Writes the page to `indexPath(in: path)` by the output policy (atomic replace), creating the
    /// directory (one level) when it is missing. `checkDirectory` states what is refused.
    public func write(toDirectory path: String) throws {
        try Self.checkDirectory(path)
        if !FileManager.default.fileExists(atPath: path) {
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
                throw TRMError(.io, "cannot create the report directory \(path): \(String(cString: strerror(errno)))")
            }
        }
        try AtomicFile.write(Array(html().utf8), to: Self.indexPath(in: path))
    }

    /// `path` without trailing slashes ("/" stays).
    static func trimmed(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}
