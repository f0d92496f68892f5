import Foundation
import Testing
import TestSupport

/// `trm-run --plot FILE.svg --report DIR` as a user runs them: the plot agrees with --json, the report
/// has a section per puzzle with its votes and escaped names, for ARC, Sudoku and Maze; bad
/// directories and files are refused before the run.
@Suite struct PictureRunTests {
    /// Checks the plot against the --json of the same run: a dot per K, labelled `solved/puzzles`.
    static func checkPlot(_ svg: String, json: String, puzzles: Int) throws {
        let root = try XMLTree.parse(path: svg)
        #expect(root.name == "svg")
        let pass = try ShardRunTests.passAtK(json)
        let ks = pass.keys.compactMap(Int.init).sorted()
        #expect(root.all("circle").count == ks.count)
        let expected = ks.map { k -> String in
            let solved = pass[String(k)]! * Double(puzzles)
            return (solved == solved.rounded() ? String(Int(solved)) : String(format: "%.3g", solved)) + "/\(puzzles)"
        }
        #expect(root.all("text", cssClass: "point-label").map(\.text) == expected)
    }

    /// Every test pair of the report: the votes its heading counts, and the vote cells of its candidates.
    static func pairVotes(_ page: XMLTree) -> [(heading: Int, cells: [Int], more: Bool)] {
        page.all("div", cssClass: "pair").map { pair in
            let heading = pair.all("h3").first?.text ?? ""
            let votes = Int(heading.split(separator: " ").dropFirst(2).first ?? "") ?? -1
            return (votes, pair.all("td", cssClass: "votes").compactMap { Int($0.text) }, !pair.all("p", cssClass: "more").isEmpty)
        }
    }

    @Test func arcRunWritesThePlotAndTheReport() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try ShardRunTests.model(task: "arc", in: dir)
        let data = dir + "/arc.json"
        let evil = "a<b>&\"c\u{1B}[31m"
        try TerminalOutputTests.writeARC([evil: "", "Größe": "", "third": ""], to: data)
        let r = try Executables.run(
            "trm-run",
            [
                model, "--task", "arc", "--data", data, "--num-aug", "3", "--k", "1,2,5,10", "--threads", "1", "-q",
                "--json", dir + "/m.json", "--plot", dir + "/p.svg", "--report", dir + "/report",
            ])
        #expect(r.status == 0, "\(r.stderr)")
        try Self.checkPlot(dir + "/p.svg", json: dir + "/m.json", puzzles: 3)

        let html = try String(contentsOfFile: dir + "/report/index.html", encoding: .utf8)
        #expect(!html.utf8.contains(0x1B) && html.contains("a&lt;b&gt;&amp;&quot;c\\x1b[31m"))
        let page = try XMLTree.parse(Data(html.utf8))
        let sections = page.all("section", cssClass: "puzzle")
        #expect(sections.count == 3)
        #expect(Set(sections.compactMap { $0.all("span", cssClass: "name").first?.text }) == ["a<b>&\"c\\x1b[31m", "Größe", "third"])
        // 4 queries (the original and 3 augmentations) per test pair: at most 4 votes, all drawn.
        let pairs = Self.pairVotes(page)
        #expect(pairs.count == 3)
        for pair in pairs {
            #expect((0...4).contains(pair.heading) && !pair.more && pair.cells.reduce(0, +) == pair.heading, "\(pair)")
        }
        #expect(pairs.contains { $0.heading > 0 }, "the model's predictions decode and vote")
        #expect(page.all("td", cssClass: "solved").count == 4 && page.all("svg").count == 1)
        #expect(page.all("table", cssClass: "grid").count >= 6, "inputs and truths at least")

        // Run again into the same directory: index.html is replaced, nothing else appears.
        let again = try Executables.run(
            "trm-run", [model, "--task", "arc", "--data", data, "--num-aug", "0", "--threads", "1", "-q", "--report", dir + "/report"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/report") == ["index.html"])
        #expect(Self.pairVotes(try XMLTree.parse(path: dir + "/report/index.html")).allSatisfy { $0.heading <= 1 })
    }

    @Test func sudokuAndMazeRunsWritePlotsAndReports() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (task, grid) in [("sudoku", "4"), ("maze", "5")] {
            let model = try ShardRunTests.model(task: task, extra: ["--grid", grid], in: dir)
            let r = try Executables.run(
                "trm-run",
                [
                    model, "--task", task, "--limit", "3", "--num-aug", "1", "--threads", "1", "-q",
                    "--json", dir + "/\(task).json", "--plot", dir + "/\(task).svg", "--report", dir + "/\(task)",
                ])
            #expect(r.status == 0, "\(task): \(r.stderr)")
            try Self.checkPlot(dir + "/\(task).svg", json: dir + "/\(task).json", puzzles: 3)
            let page = try XMLTree.parse(path: dir + "/\(task)/index.html")
            #expect(page.all("section", cssClass: "puzzle").count == 3)
            #expect(page.all("span", cssClass: "name").map(\.text) == (0..<3).map { "\(task)-\($0)" })
            for pair in Self.pairVotes(page) { #expect((0...2).contains(pair.heading) && pair.cells.reduce(0, +) == pair.heading) }
            let cells = page.all("td").filter { ($0.attributes["class"] ?? "").hasPrefix("v") }
            if task == "sudoku" {
                #expect(cells.contains { $0.text == "1" } && cells.allSatisfy { ["", "1", "2", "3", "4"].contains($0.text) })
            } else {
                #expect(Set(cells.map { $0.attributes["class"]! }).isSuperset(of: ["v0", "v2", "v3"]), "walls, start and goal")
            }
        }
    }

    @Test func trainCurveRedrawsARunFromItsMetrics() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = [
            #"{"kind":"train","step":10,"loss":2.0,"lm_loss":1.5,"exact":0.0,"token_acc":0.4}"#,
            #"{"kind":"eval","step":10,"exact":0.1,"token_acc":0.5,"count":8}"#,
            #"{"kind":"train","step":20,"loss":1.0,"lm_loss":0.8,"exact":0.2,"token_acc":0.6}"#,
            #"{"kind":"eval","step":20,"exact":0.3,"token_acc":0.7,"count":8}"#, "not a record",
        ]
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: dir + "/m.jsonl"))
        let r = try Executables.run("trm-train", ["curve", dir + "/m.jsonl", "-o", dir + "/c.svg", "--title", "run <1>"])
        #expect(r.status == 0, "\(r.stderr)")
        let root = try XMLTree.parse(path: dir + "/c.svg")
        #expect(root.all("polyline").count == 6 && root.all("circle").count == 4)
        #expect(root.all("text").contains { $0.text == "run <1>" } && root.all("text").contains { $0.text == "held-out token acc" })

        try Data("nothing\n".utf8).write(to: URL(fileURLWithPath: dir + "/empty.jsonl"))
        for (args, status, message) in [
            (["curve", dir + "/m.jsonl"], Int32(2), "-o FILE is required"),
            (["curve", dir + "/empty.jsonl", "-o", dir + "/e.svg"], 1, "holds no metrics records"),
            (["curve", dir + "/m.jsonl", "-o", dir + "/m.jsonl"], 1, "is the same file as the input"),
            (["curve", dir + "/missing.jsonl", "-o", dir + "/e.svg"], 1, "cannot open"),
        ] {
            let bad = try Executables.run("trm-train", args)
            #expect(bad.status == status && bad.stderr.contains(message), "\(args): \(bad.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/e.svg"))
    }

    @Test func badPictureOutputsAreRefusedBeforeTheRun() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try ShardRunTests.model(task: "sudoku", extra: ["--grid", "4"], in: dir)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        let base = [model, "--task", "sudoku", "--limit", "2", "--threads", "1"]
        let cases: [([String], Int32, String)] = [
            (["--report", dir + "/file"], 1, "the report directory \(dir)/file exists and is not a directory"),
            (["--report", dir + "/missing/rep"], 1, "cannot create the report directory \(dir)/missing/rep"),
            (["--plot", dir + "/missing/p.svg"], 1, "cannot write \(dir)/missing/p.svg"),
            (["--plot", model], 1, "is the same file as the input"),
            (["--plot", dir + "/p.svg", "--json", dir + "/p.svg"], 1, "are the same file"),
            (["--report", dir + "/rep", "--candidates", dir + "/c.cand"], 2, "--report does not apply to a shard"),
            (["--plot", dir + "/p.svg", "--candidates", dir + "/c.cand"], 2, "--plot does not apply to a shard"),
        ]
        for (extra, status, message) in cases {
            let r = try Executables.run("trm-run", base + extra)
            #expect(r.status == status && r.stderr.contains(message), "\(extra): \(r.stderr)")
            #expect(r.stdout.isEmpty, "refused before the run: \(r.stdout)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/file")) == Data("keep".utf8))
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(!left.contains("rep") && !left.contains("p.svg") && !left.contains("c.cand"), "\(left)")
    }
}
