import CLISupport

let usage = """
    trm-data: generate and check Sudoku and Maze puzzle sets in the published CSV layout
    (source,question,answer,rating; docs/tasks.md §3.4, §4.3).

    USAGE: trm-data <command> [options]

    COMMANDS:
      generate   draw a seeded set of puzzles and write it as CSV
      check      validate a CSV file and print its statistics

    Run 'trm-data <command> --help' for a command's options.
    """

/// The puzzle families trm-data knows.
enum PuzzleTask: String, CaseIterable {
    case sudoku, maze

    var defaultSize: Int { self == .sudoku ? 9 : 30 }
}

runSubcommands("trm-data", usage: usage, ["generate": GenerateCommand.run, "check": CheckCommand.run])
