import Foundation
import Testing
import TestSupport
import TRMCore
@testable import Tasks

/// The pass@K plot (SVG) and the HTML report of an evaluation: well-formed XML with the expected
/// points, labels, sections and vote counts; names escaped; bad report directories refused.
@Suite struct PicturesTests {
    static let grids = (0...9).map { Grid([[$0]])! }
    static let evilName = "evil <b>&\"x'\u{1B}[31m\u{202E}"

    /// Five puzzles with known rankings. p0: the truth first (3 votes). p1: second (2 votes, then 1).
    /// p2: two test pairs, the first right, the second wrong. p3: the truth sixth (five answers with 2
    /// votes, then it with 1). p4: no solution known (unscored).
    /// Solved: K=1 1.5, K=2 and 5 2.5, K≥10 3.5 (of 4 scored).
    static func evaluation(ks: [Int] = PassAtK.defaultKs) -> Evaluation {
        let g = grids
        let puzzles = [
            EvaluationPuzzle(name: evilName, testInputs: [g[0]], testOutputs: [g[1]]),
            EvaluationPuzzle(name: "p1", testInputs: [g[0]], testOutputs: [g[2]]),
            EvaluationPuzzle(name: "p2", testInputs: [g[0], g[9]], testOutputs: [g[1], g[2]]),
            EvaluationPuzzle(name: "p3", testInputs: [g[0]], testOutputs: [g[3]]),
            EvaluationPuzzle(name: "p4", testInputs: [g[0]], testOutputs: nil),
        ]
        var e = Evaluation(puzzles: puzzles, ks: ks)
        func vote(_ p: String, _ t: Int, _ answer: Int, _ times: Int = 1, q: Float = 0) {
            for _ in 0..<times { e.add(Prediction(puzzle: p, testIndex: t, answer: g[answer], qHalt: q)) }
        }
        vote(evilName, 0, 1, 3)
        vote("p1", 0, 1, 2)
        vote("p1", 0, 2)
        vote("p2", 0, 1)
        vote("p2", 1, 3, 2)
        for a in [4, 5, 6, 7, 8] { vote("p3", 0, a, 2, q: Float(a)) }
        vote("p3", 0, 3)
        vote("p4", 0, 5)
        e.add(Prediction(puzzle: "p4", testIndex: 0, answer: nil, qHalt: 0))
        return e
    }

    static let expectedLabels = ["1.5/4", "2.5/4", "2.5/4", "3.5/4", "3.5/4", "3.5/4"]

    @Test func markupEscapesWhatDataCanHold() {
        #expect(Markup.escape("a<b>&\"'\u{1B}\u{202E}\u{9B}é\n") == "a&lt;b&gt;&amp;&quot;&#39;\\x1b\\u{202e}\\x9bé\n")
        #expect(Markup.escape("plain ARC 007bbfb7") == "plain ARC 007bbfb7")
        #expect(Markup.count(3) == "3" && Markup.count(2.5) == "2.5" && Markup.count(1.0 / 3) == "0.333")
    }

    @Test func passAtKPlotHasAPointAndALabelPerK() throws {
        let pass = Self.evaluation().passAtK()
        #expect(pass.puzzles == 4 && (0..<6).map { pass.rate(pass.ks[$0]) } == [0.375, 0.625, 0.625, 0.875, 0.875, 0.875])
        let svg = PassAtKPlot.svg(pass, title: "a<b & c")
        let root = try XMLTree.parse(Data(svg.utf8))
        #expect(root.name == "svg" && root.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(root.all("text").contains { $0.text == "a<b & c" })
        let dots = root.all("circle")
        #expect(dots.count == 6)
        // Log x axis from 1 to 1000 over the 560-pixel frame at x 70: K 10 sits a third of the way.
        #expect(dots.map { $0.attributes["cx"]! } == ["70.0", "126.2", "200.5", "256.7", "443.3", "630.0"])
        // pass@1 = 37.5 % in the 200-pixel frame whose top is at 44.
        #expect(dots[0].attributes["cy"] == "169.0")
        #expect(root.all("text", cssClass: "point-label").map(\.text) == Self.expectedLabels)
        let ticks = Set(root.all("text").map(\.text))
        for k in ["1", "2", "5", "10", "100", "1000", "0%", "50%", "100%"] { #expect(ticks.contains(k), "tick \(k)") }

        let none = try XMLTree.parse(Data(PassAtKPlot.svg(PassAtK(ks: [1, 2]), title: "t").utf8))
        #expect(none.all("text").contains { $0.text.contains("no scored puzzles") })
        #expect(none.all("circle").count == 2 && none.all("text", cssClass: "point-label").map(\.text) == ["0/0", "0/0"])
    }

    @Test func gridStylesDrawEveryCell() throws {
        let grid = Grid([[1, 2], [3, 0]])!
        let arc = try XMLTree.parse(Data(GridStyle.arc.html(grid).utf8))
        #expect(arc.all("tr").count == 2 && arc.all("td").map { $0.attributes["class"]! } == ["v1", "v2", "v3", "v0"])
        #expect(GridStyle.arc.css.contains("table.grid td.v9{background:#870c25}"))
        let sudoku = try XMLTree.parse(Data(GridStyle.sudoku.html(grid).utf8))
        #expect(sudoku.all("td").map(\.text) == ["1", "2", "3", ""])
        // Official tokens are value + 1: token 1 is a blank, token 4 the digit 3.
        let tokens = try XMLTree.parse(Data(GridStyle.sudoku.shifted(by: 1).html(Grid([[1, 4]])!).utf8))
        #expect(tokens.all("td").map(\.text) == ["", "3"])
        #expect(GridStyle.maze.html(Grid([[9]])!).contains("class=\"v4\""), "values past the palette use its last colour")
        #expect(try XMLTree.parse(Data(GridStyle.arc.html(Grid(rows: 0, cols: 0, cells: [])).utf8)).text == "(empty)")
    }

    @Test func reportHasOneSectionPerPuzzleWithItsVotes() throws {
        let report = EvaluationReport(
            title: "model <x> on ARC", notes: ["4 puzzles & more"], evaluation: Self.evaluation(), style: .arc)
        let html = report.html()
        #expect(html.hasPrefix("<!DOCTYPE html>") && !html.contains("<script"))
        #expect(!html.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E } && !html.contains("<b>"))
        let page = try XMLTree.parse(Data(html.utf8))
        #expect(page.all("title").first?.text == "model <x> on ARC")
        let sections = page.all("section", cssClass: "puzzle")
        #expect(sections.count == 5)
        #expect(
            sections.map { $0.all("span", cssClass: "name").first?.text } == [
                Self.evilName.replacingOccurrences(of: "\u{1B}", with: "\\x1b").replacingOccurrences(of: "\u{202E}", with: "\\u{202e}"),
                "p1", "p2", "p3", "p4",
            ])
        #expect(
            sections.map { $0.attributes["class"]! } == [
                "puzzle right", "puzzle right", "puzzle partly", "puzzle wrong", "puzzle unscored",
            ])
        // Vote counts per section, top candidates first (p3: five shown, the sixth counted below).
        let votes = sections.map { $0.all("td", cssClass: "votes").map(\.text) }
        #expect(votes == [["3"], ["2", "1"], ["1", "2"], ["2", "2", "2", "2", "2"], ["1"]])
        #expect(sections[3].all("p", cssClass: "more").first?.text == "and 1 more candidate with 1 vote (the truth among them)")
        #expect(sections[3].all("h3").first?.text == "test 0: 11 votes for 6 candidates; the truth is ranked 6")
        // p3's candidates tie on votes: ranked by mean sigmoid(q_halt), highest q first.
        #expect(sections[3].all("td", cssClass: "confidence").first?.text == String(format: "%.3g", 1 / (1 + exp(-8.0))))
        // p1: attempt 1 wrong, attempt 2 right; p4 (unscored) marks neither.
        let p1 = sections[1].all("figure").compactMap { $0.attributes["class"] }
        #expect(p1 == ["wrong", "right"])
        #expect(sections[1].all("td", cssClass: "rank").map(\.text) == ["1", "2 ✓"])
        #expect(
            sections[1].all("td", cssClass: "right").map { $0.attributes["class"]! } == [
                "rank right", "votes right", "confidence right", "answer right",
            ])
        #expect(sections[4].all("figure").allSatisfy { $0.attributes["class"] == nil })
        #expect(sections[4].all("h3").first?.text == "test 0: 1 vote for 1 candidate")
        #expect(sections[2].all("div", cssClass: "pair").count == 2)

        let summary = page.all("section", cssClass: "summary")
        #expect(summary.count == 1)
        #expect(summary[0].all("td", cssClass: "solved").map(\.text) == Self.expectedLabels)
        #expect(summary[0].all("td", cssClass: "rate").first?.text == "37.50%")
        #expect(summary[0].all("svg").count == 1 && summary[0].all("circle").count == 6)
        #expect(summary[0].all("li").map { $0.attributes["class"]! } == ["right", "right", "partly", "wrong", "unscored"])
        #expect(summary[0].all("a").map { $0.attributes["href"]! } == (0..<5).map { "#puzzle-\($0)" })
        #expect(page.all("p", cssClass: "note").first?.text == "4 puzzles & more")
    }

    @Test func reportDirectoriesAreCheckedAndWrittenByThePolicy() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-report-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let report = EvaluationReport(title: "t", evaluation: Self.evaluation(), style: .arc)

        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/dangling", withDestinationPath: dir + "/nowhere")
        for (path, message) in [
            (dir + "/file", "exists and is not a directory"), (dir + "/missing/rep", "is not a directory"),
            (dir + "/dangling", "is a link to nothing"), (dir + "/file/rep", "is not a directory"),
        ] {
            #expect(throws: TRMError.self) { try EvaluationReport.checkDirectory(path) }
            do {
                try report.write(toDirectory: path)
                Issue.record("\(path) was accepted")
            } catch let e as TRMError {
                #expect(e.message.contains(message), "\(e.message)")
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/file")) == Data("keep".utf8))
        #expect(!FileManager.default.fileExists(atPath: dir + "/nowhere"))

        // A new directory is created; an existing one gets its index.html replaced.
        try report.write(toDirectory: dir + "/rep/")
        let first = try String(contentsOfFile: dir + "/rep/index.html", encoding: .utf8)
        #expect(first == report.html())
        try Data("old".utf8).write(to: URL(fileURLWithPath: dir + "/rep/index.html"))
        try report.write(toDirectory: dir + "/rep")
        #expect(try String(contentsOfFile: dir + "/rep/index.html", encoding: .utf8) == first)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/rep") == ["index.html"], "no temp file left")
        // An index.html that is a directory cannot be replaced.
        try FileManager.default.createDirectory(atPath: dir + "/blocked/index.html", withIntermediateDirectories: true)
        #expect(throws: TRMError.self) { try report.write(toDirectory: dir + "/blocked") }
    }
}
