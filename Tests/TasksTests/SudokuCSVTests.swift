import Foundation
import Testing
@testable import Tasks
import TRMCore

@Suite struct SudokuCSVTests {
    static let header = "source,question,answer,rating\n"
    static let knownRow = "wiki,\(SudokuFixtures.question),\(SudokuFixtures.answer),0\n"

    func parse(_ text: String, size: Int? = nil) throws -> [SudokuPuzzle] {
        try SudokuCSV.parse(bytes: Array(text.utf8), name: "t.csv", side: size)
    }

    /// The error message `text` fails with, or "" when it parses.
    func failure(_ text: String, size: Int? = nil) -> String {
        do {
            _ = try parse(text, size: size)
            return ""
        } catch let e as TRMError {
            return e.message
        } catch {
            return "\(error)"
        }
    }

    @Test func roundTripsGeneratedSetsThroughFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sudoku-csv-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for size in [4, 6, 9] {
            let g = SudokuGenerator(shape: SudokuShape(size: size)!, source: "gen, \"quoted\"")
            let puzzles = try (0..<20).map { try g.generate(index: $0, seed: 3) }
            let path = dir + "/s\(size).csv"
            try SudokuCSV.write(puzzles, to: path)
            #expect(try SudokuCSV.read(path: path) == puzzles)
            #expect(try SudokuCSV.read(path: path, side: size, limit: 3) == Array(puzzles.prefix(3)))
            #expect(try SudokuCSV.parse(bytes: SudokuCSV.encode(puzzles)) == puzzles)
        }
    }

    @Test func readsThePublishedLayout() throws {
        let p = try parse(Self.header + Self.knownRow)
        #expect(p.count == 1 && p[0].source == "wiki" && p[0].rating == 0 && p[0].clues == 30)
        #expect(p[0].question == SudokuFixtures.board(SudokuFixtures.question))
        // '0' blanks, CRLF line ends, a byte-order mark, a quoted source, blank lines and a last line
        // without a newline are all accepted.
        let zeros = SudokuFixtures.question.replacingOccurrences(of: ".", with: "0")
        let messy =
            "\u{FEFF}source,question,answer,rating\r\n\"a,b\",\(zeros),\(SudokuFixtures.answer),12\r\n\r\n"
            + "x,\(SudokuFixtures.question),\(SudokuFixtures.answer),3.0"
        let q = try parse(messy)
        #expect(q.map(\.source) == ["a,b", "x"] && q.map(\.rating) == [12, 3] && q[0].question == q[1].question)
        #expect(String(decoding: SudokuCSV.encode(p), as: UTF8.self) == Self.header + Self.knownRow)
    }

    @Test func malformedRowsNameTheirLine() {
        let q = SudokuFixtures.question, a = SudokuFixtures.answer
        func row(_ question: String, _ answer: String, _ rating: String = "1") -> String { "s,\(question),\(answer),\(rating)\n" }
        var wrongGiven = Array(q)
        wrongGiven[2] = "1"  // the answer has 4 there
        let dupAnswer = "3" + a.dropFirst()  // two 3s in row 1
        let cases: [(String, String)] = [
            ("", "t.csv: empty file"),
            ("src,q,a,r\n", "t.csv:1: expected the header"),
            (Self.header + "s,\(q),\(a)\n", "t.csv:2: expected 4 fields"),
            (Self.header + Self.knownRow + row(String(q.dropLast()), a), "t.csv:3: question has 80 characters, expected 81"),
            (Self.header + row(String(q.dropLast()), a), "t.csv:2: question has 80 characters; a 4×4, 6×6 or 9×9 board has 16, 36 or 81"),
            (Self.header + row(q, String(a.dropLast())), "answer has 80 characters"),
            (Self.header + row("x" + q.dropFirst(), a), "question character 1 (row 1, column 1) is 'x'"),
            (Self.header + row(q, "." + a.dropFirst()), "answer character 1 (row 1, column 1) is '.'; expected digits 1...9"),
            (Self.header + row(q, a, "hard"), "rating 'hard' is not a non-negative integer"),
            (Self.header + row(q, a, "-3"), "is not a non-negative integer"),
            (Self.header + row(String(wrongGiven), a), "answer has 4 at row 1, column 3 where the question gives 1"),
            (Self.header + row(q, dupAnswer), "t.csv:2: answer is not a solved board: digit 3 twice in row 1"),
            (Self.header + "\"s,\(q),\(a),1\n", "t.csv:2: unterminated quoted field"),
            (Self.header + Self.knownRow + row("1234341221434321", "1234341221434321"), "t.csv:3: question has 16 characters, expected 81"),
            (
                Self.header + row("5" + String(repeating: ".", count: 15), "1234341221434321"),
                "question character 1 (row 1, column 1) is '5'; expected '.', '0' or digits 1...4"
            ),
        ]
        for (text, expected) in cases {
            let message = failure(text)
            #expect(message.contains(expected), "\(expected) <- \(message)")
        }
        #expect(failure(Self.header + Self.knownRow, size: 4).contains("question has 81 characters, expected 16 for a 4×4 board"))
        #expect(failure(Self.header, size: 5).contains("Sudoku side 5 is not 4, 6 or 9"))
        #expect(failure(Self.header).contains("t.csv: no puzzles after the header"))  // a set with no puzzle is a mistake
    }

    @Test func overlongLinesAndMissingFilesFail() {
        let long = Self.header + String(repeating: "1", count: PuzzleCSV.maxLineBytes + 10)
        #expect(failure(long).contains("t.csv:2: line longer than"))
        #expect(throws: TRMError.self) { try SudokuCSV.read(path: "/nonexistent/sudoku.csv") }
    }
}
