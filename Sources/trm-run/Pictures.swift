import CLISupport
import Foundation
import Tasks
import TRMCore

/// `--plot FILE.svg` (`PassAtKPlot`) and `--report DIR` (`EvaluationReport`): the options are checked
/// before any work, and the files written after the run, by the output policy.
extension Report {
    /// Checks the report directory (`EvaluationReport.checkDirectory`) and returns the files of both
    /// options for `OutputFile.checkOutputs` (DIR/index.html only when DIR exists already).
    static func pictureOutputs(_ args: Arguments) throws -> [String] {
        var outputs = [args.string("plot")].compactMap { $0 }
        if let dir = args.string("report") {
            try EvaluationReport.checkDirectory(dir)
            if FileManager.default.fileExists(atPath: dir) { outputs.append(EvaluationReport.indexPath(in: dir)) }
        }
        return outputs
    }

    /// Writes the plot and the report the options ask for; `model` names the run in their titles.
    func writePictures(_ args: Arguments, model: String, evaluation: Evaluation, style: GridStyle) throws {
        let title = "\(OutputFile.fileName(of: model)) on \(task)"
        if let path = args.string("plot") {
            try AtomicFile.write(Array(PassAtKPlot.svg(pass, title: title).utf8), to: path)
        }
        if let dir = args.string("report") {
            try EvaluationReport(title: title, notes: [headline], evaluation: evaluation, style: style).write(toDirectory: dir)
        }
    }
}

// How each task source's grids are drawn in the report (`TaskSource.gridStyle`).
extension ARCSource {
    var gridStyle: GridStyle { .arc }
}

extension OfficialARCSource {
    var gridStyle: GridStyle { .arc }
}

extension SudokuSource {
    var gridStyle: GridStyle { .sudoku }
}

extension MazeSource {
    var gridStyle: GridStyle { .maze }
}

extension OfficialGridSource {
    /// Grids hold tokens, cell value + 1 (as `render`).
    var gridStyle: GridStyle { (isSudoku ? GridStyle.sudoku : .maze).shifted(by: 1) }
}
