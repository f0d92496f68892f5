import Foundation
import TRMCore
import Testing
@testable import Tasks

/// Hand-drawn mazes for the maze tests.
enum MazeFixtures {
    /// A 5×5 maze with a unique shortest path of 12 moves (S top-left, G bottom-right).
    static let question = ["S   #", "### #", "#   #", "# ###", "#   G"]
    static let answer = ["Sooo#", "###o#", "#ooo#", "#o###", "#oooG"]

    /// Rows of text as a grid.
    static func grid(_ rows: [String]) -> Grid {
        Grid(rows: rows.count, cols: rows[0].count, cells: rows.joined().utf8.map { MazeCell(byte: $0)!.rawValue })
    }

    static func row(_ question: [String], _ answer: [String], rating: String = "12") -> String {
        "m,\(question.joined()),\(answer.joined()),\(rating)\n"
    }
}

@Suite struct MazeCSVTests {
    static let header = "source,question,answer,rating\n"

    func failure(_ text: String, side: Int? = nil) -> String {
        do {
            _ = try MazeCSV.parse(bytes: Array(text.utf8), name: "m.csv", side: side)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func roundTripsGeneratedSetsThroughFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("maze-csv-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for side in [7, 30] {
            let g = MazeGenerator(size: side, minPath: side == 30 ? 60 : 5)
            let puzzles = try (0..<10).map { try g.generate(index: $0, seed: 3) }
            let path = dir + "/m\(side).csv"
            try MazeCSV.write(puzzles, to: path)
            #expect(try MazeCSV.read(path: path) == puzzles)
            #expect(try MazeCSV.read(path: path, side: side, limit: 2) == Array(puzzles.prefix(2)))
        }
    }

    @Test func readsTheLayout() throws {
        let text = Self.header + MazeFixtures.row(MazeFixtures.question, MazeFixtures.answer)
        let p = try MazeCSV.parse(bytes: Array(text.utf8))
        #expect(p.count == 1 && p[0].side == 5 && p[0].rating == 12)
        #expect(p[0].question == MazeFixtures.grid(MazeFixtures.question) && p[0].answer == MazeFixtures.grid(MazeFixtures.answer))
        #expect(String(decoding: MazeCSV.encode(p), as: UTF8.self) == text)
        #expect(MazeEncoding.lines(p[0].answer) == MazeFixtures.answer)
        // A fractional rating is rounded (the published maze ratings are not used downstream).
        #expect(
            try MazeCSV.parse(
                bytes: Array((Self.header + MazeFixtures.row(MazeFixtures.question, MazeFixtures.answer, rating: "11.6")).utf8))[0].rating
                == 12)
    }

    @Test func malformedRowsNameTheirLine() {
        let q = MazeFixtures.question, a = MazeFixtures.answer
        func edit(_ rows: [String], _ r: Int, _ c: Int, _ ch: Character) -> [String] {
            var out = rows
            var line = Array(out[r])
            line[c] = ch
            out[r] = String(line)
            return out
        }
        let good = MazeFixtures.row(q, a)
        let cases: [(String, String)] = [
            (Self.header + "m,\(q.joined()),\(a.joined())\n", "m.csv:2: expected 4 fields"),
            (
                Self.header + "m,\(q.joined().dropLast()),\(a.joined()),12\n",
                "m.csv:2: question has 24 characters, not the cells of a square maze"
            ),
            (
                Self.header + good + "m,\(q.joined()),\(a.joined().dropLast()),12\n",
                "m.csv:3: answer has 24 characters, expected 25 for a 5×5 maze"
            ),
            (Self.header + MazeFixtures.row(edit(q, 0, 1, "x"), a), "question character 2 (row 1, column 2) is 'x'; expected one of"),
            (
                Self.header + MazeFixtures.row(edit(q, 2, 2, "S"), edit(a, 2, 2, "S")),
                "question has 2 start cells ('S'), expected exactly one"
            ),
            (Self.header + MazeFixtures.row(edit(q, 4, 4, " "), edit(a, 4, 4, " ")), "question has 0 goal cells ('G')"),
            (Self.header + MazeFixtures.row(edit(q, 0, 1, "o"), a), "question marks a path cell at row 1, column 2"),
            (Self.header + MazeFixtures.row(q, edit(a, 0, 4, " ")), "answer has ' ' at row 1, column 5 where the question has '#'"),
            (Self.header + MazeFixtures.row(q, edit(a, 2, 2, " ")), "answer marks 10 path cells; the shortest path has 11 between S and G"),
            (Self.header + MazeFixtures.row(edit(q, 1, 3, "#"), edit(a, 1, 3, "#")), "the goal cannot be reached from the start"),
            (Self.header + MazeFixtures.row(q, a, rating: "long"), "rating 'long' is not a non-negative number"),
        ]
        for (text, expected) in cases {
            let message = failure(text)
            #expect(message.contains(expected), "\(expected) <- \(message)")
        }
        #expect(failure(Self.header + good, side: 6).contains("question has 25 characters, expected 36 for a 6×6 maze"))
    }

    /// A marked path that is connected but not shortest, and marks that are the right number but not a
    /// chain, are both refused.
    @Test func answerMustBeAShortestChain() {
        let open = ["S    ", "     ", "     ", "     ", "    G"]
        let question = MazeFixtures.grid(open)
        let shortest = MazeFixtures.grid(["Soooo", "    o", "    o", "    o", "    G"])
        #expect(MazeSolver.answerProblem(question: question, answer: shortest) == nil)
        let detour = MazeFixtures.grid(["Soooo", "    o", " oooo", " o  o", " o  G"])
        #expect(MazeSolver.answerProblem(question: question, answer: detour)?.contains("answer marks") == true)
        let scattered = MazeFixtures.grid(["S o o", " o o ", "o o o", "     ", "    G"])
        #expect(MazeSolver.answerProblem(question: question, answer: scattered)?.contains("not a shortest path") == true)
        let path = MazeSolver.shortestPath(question)
        #expect(path?.length == 8 && path?.isUnique == false && path?.cells.count == 9)
    }
}
