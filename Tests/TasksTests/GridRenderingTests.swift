import Testing
@testable import Tasks

@Suite struct GridRenderingTests {
    let esc: Character = "\u{1B}"

    @Test func arcPlainIsDigits() {
        let grid = Grid([[0, 1, 2], [9, 5, 0]])!
        let lines = ARCTask.render(grid, colour: false)
        #expect(lines == ["012", "950"])
        #expect(Grid([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]).map { ARCTask.render($0, colour: false) } == ["0123456789"])
    }

    @Test func arcColouredUsesThePalette() {
        let grid = Grid([[0, 2], [9, 5]])!
        let lines = ARCTask.render(grid, colour: true)
        #expect(lines == ["\u{1B}[48;5;16m  \u{1B}[48;5;196m  \u{1B}[0m", "\u{1B}[48;5;88m  \u{1B}[48;5;244m  \u{1B}[0m"])
        #expect(lines.allSatisfy { $0.contains(esc) })
    }

    @Test func mazePlainUsesCellCharacters() {
        let cells = MazeCell.allCases.map { Int($0.rawValue) }
        let grid = Grid([cells, cells.reversed()])!
        #expect(MazeTask.render(grid, colour: false) == ["#.SGo", "oGS.#"])
        #expect(MazeTask.render(Grid([[7]])!, colour: false) == ["?"])
        let coloured = MazeTask.render(grid, colour: true)
        #expect(coloured[0] == "\u{1B}[48;5;244m \u{1B}[48;5;16m \u{1B}[48;5;40m \u{1B}[48;5;196m \u{1B}[48;5;226m \u{1B}[0m")
    }

    @Test func sudokuHasNoEscapesEitherWay() {
        let grid = Grid([[1, 0], [0, 4]])!
        #expect(SudokuTask.render(grid, colour: false) == [" 1 .", " . 4"])
        #expect(SudokuTask.render(grid, colour: true) == SudokuTask.render(grid, colour: false))
    }

    @Test func plainRenderingNeverEmitsControls() {
        let grid = Grid(rows: 3, cols: 4, cells: (0..<12).map { UInt8($0 % 10) })
        for lines in [ARCTask.render(grid, colour: false), MazeTask.render(grid, colour: false), SudokuTask.render(grid, colour: false)] {
            #expect(lines.count == 3)
            #expect(lines.allSatisfy { $0.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F } })
        }
    }
}
