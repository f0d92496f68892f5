import Foundation
import GraphIR
import Runtime
import Tasks
import TRMCore

/// The C API's task layer (`trm_task_*`): puzzles of one task kind, the queries they expand into
/// (encoding and augmentation as trm-run's task mode: `ARCTask`, `SudokuTask`, `MazeTask`), one
/// prediction slot per query, and the `Evaluation` (voting, pass@K, attempts) rebuilt from them
/// when a result is read after a change.
final class TaskSet {
    /// trm_task_kind, in the header's order; the names are the models' `task` facts.
    enum Kind: Int32, CaseIterable {
        case arc = 0
        case sudoku, maze
        var name: String { ["arc", "sudoku", "maze"][Int(rawValue)] }
    }

    let kind: Kind
    let model: LoadedModel
    let numAug: Int
    let seed: UInt64
    let signature: StepSignature
    /// The model's ARC identifier table (nil: none, every puzzle gets random versions on row 0).
    let table: ARCIdentifierTable?
    /// Sudoku: the board shape the model's sequence length implies; Maze: the side.
    let side: Int

    private(set) var puzzles: [EvaluationPuzzle] = []
    private(set) var queries: [QueryRunner.Item] = []
    private var predictions: [Prediction?] = []
    private var cachedEvaluation: Evaluation?

    /// The largest `num_aug`: the reference's 1000 augmented versions.
    static let maxNumAug = 1000

    init(model: LoadedModel, kind: Kind, numAug: Int, seed: UInt64) throws {
        guard (0...Self.maxNumAug).contains(numAug) else {
            throw CAPIError.argument("num_aug must be 0...\(Self.maxNumAug), got \(numAug)")
        }
        if let trainedFor = model.trainedTask, trainedFor != kind.name {
            throw TRMError(.invalidInput, "the model was built for the \(trainedFor) task, not \(kind.name)")
        }
        self.model = model
        self.kind = kind
        self.numAug = numAug
        self.seed = seed
        signature = try model.stepSignature()
        let ids = model.plan.identifiers
        table = kind == .arc && !ids.isEmpty ? ARCIdentifierTable(ids) : nil
        side = Int(Double(signature.seqLen).squareRoot().rounded())
        switch kind {
        case .arc:
            guard signature.seqLen == ARCEncoding.seqLen else {
                throw TRMError(.invalidInput, "the model takes \(signature.seqLen) tokens, not ARC's \(ARCEncoding.seqLen)")
            }
        case .sudoku:
            guard side * side == signature.seqLen, let shape = SudokuShape(size: side), shape.vocabSize == signature.vocabIn else {
                throw TRMError(
                    .invalidInput, "the model's \(signature.seqLen) tokens of \(signature.vocabIn) are not a 4×4, 6×6 or 9×9 Sudoku")
            }
        case .maze:
            guard side * side == signature.seqLen, signature.vocabIn == MazeEncoding.vocabSize else {
                throw TRMError(.invalidInput, "the model's \(signature.seqLen) tokens of \(signature.vocabIn) are not a square maze")
            }
        }
    }

    /// Adds an ARC puzzle from its per-puzzle JSON text; returns its index.
    func addARC(name: String, json: [UInt8]) throws -> Int {
        guard kind == .arc else { throw CAPIError.argument("trm_task_add_arc_json needs an ARC task; this one is \(kind.name)") }
        guard !name.isEmpty, !name.contains("/") else { throw CAPIError.argument("the puzzle name must be non-empty, without '/'") }
        let parsed = try ARCDataset.parse(bytes: json, file: name + ".json", split: .evaluation)
        guard parsed.count == 1, let puzzle = parsed.first, puzzle.train.isEmpty == false || !puzzle.test.isEmpty else {
            throw TRMError(.invalidInput, "\(name): the JSON text is not one puzzle ({\"train\": [...], \"test\": [...]})")
        }
        guard !puzzle.test.isEmpty else { throw TRMError(.invalidInput, "\(name): the puzzle has no test pairs") }
        return add(
            puzzle.evaluationPuzzle,
            ARCTask.queries(for: puzzle, numAug: numAug, seed: seed, table: table).map { ($0.query, $0.identifierIndex) })
    }

    /// Adds a Sudoku or Maze puzzle from its CSV cells (answer nil: unscored); returns its index.
    func addGrid(question: [UInt8], answer: [UInt8]?) throws -> Int {
        let index = puzzles.count
        // Unscored puzzles borrow the question as their answer for validation: only `testOutputs` scores.
        let row = PuzzleCSV.Row(
            file: "puzzle \(index)", line: 1, source: "c-api", question: question, answer: answer ?? question, rating: "0")
        switch kind {
        case .arc:
            throw CAPIError.argument("trm_task_add_grid needs a Sudoku or Maze task; this one is ARC (use trm_task_add_arc_json)")
        case .sudoku:
            var shape = SudokuShape(size: side)
            let p = try SudokuCSV.puzzle(from: row, layout: &shape, checkAnswer: answer != nil)
            let evaluation = EvaluationPuzzle(
                name: SudokuTask.puzzleName(index), testInputs: [p.question], testOutputs: answer == nil ? nil : [p.answer])
            return add(evaluation, SudokuTask.queries(for: p, index: index, numAug: numAug, seed: seed).map { ($0, 0) })
        case .maze:
            var mazeSide: Int? = side
            let p = try MazeCSV.puzzle(from: row, layout: &mazeSide, checkAnswer: answer != nil)
            let evaluation = EvaluationPuzzle(
                name: MazeTask.puzzleName(index), testInputs: [p.question], testOutputs: answer == nil ? nil : [p.answer])
            return add(evaluation, MazeTask.queries(for: p, index: index, numAug: numAug).map { ($0, 0) })
        }
    }

    private func add(_ puzzle: EvaluationPuzzle, _ items: [QueryRunner.Item]) -> Int {
        puzzles.append(puzzle)
        queries += items
        predictions += [Prediction?](repeating: nil, count: items.count)
        cachedEvaluation = nil
        return puzzles.count - 1
    }

    /// Records query `i`'s argmax predictions [L] and q_halt.
    func setPrediction(_ i: Int, preds: [Int32], qHalt: Float) throws {
        guard queries.indices.contains(i) else { throw CAPIError.argument("query \(i) is out of range (\(queries.count) queries)") }
        guard preds.count == signature.seqLen else {
            throw CAPIError.argument("a prediction has \(signature.seqLen) tokens, count is \(preds.count)")
        }
        let q = queries[i].query
        predictions[i] = Prediction(puzzle: q.puzzle, testIndex: q.testIndex, answer: q.decode(preds), qHalt: qHalt, input: q.voteInput)
        cachedEvaluation = nil
    }

    /// Runs every query without a prediction through `runner`.
    func run(_ runner: ACTRunner, halting: Halting, maxSteps: Int?, progress: ((Int, Int) -> Void)?) throws {
        guard runner.session.model === model else {
            throw CAPIError.argument("the session belongs to another model than the task")
        }
        let todo = predictions.indices.filter { predictions[$0] == nil }
        let result = try QueryRunner.predictions(
            todo.map { queries[$0] }, runner: runner, halting: halting, maxSteps: maxSteps, progress: progress)
        for (i, p) in zip(todo, result.predictions) { predictions[i] = p }
        cachedEvaluation = nil
    }

    /// The evaluation of every recorded prediction, with pass@K at `ks`.
    func evaluation(ks: [Int] = PassAtK.defaultKs) -> Evaluation {
        if ks == PassAtK.defaultKs, let cachedEvaluation { return cachedEvaluation }
        var e = Evaluation(puzzles: puzzles, ks: ks)
        e.add(contentsOf: predictions.compactMap { $0 })
        if ks == PassAtK.defaultKs { cachedEvaluation = e }
        return e
    }

    /// The ranked candidates of a test pair, checked.
    func candidates(puzzle: Int, test: Int) throws -> [Candidate] {
        let p = try self.puzzle(puzzle)
        guard p.testInputs.indices.contains(test) else {
            throw CAPIError.argument("test pair \(test) is out of range (puzzle \(puzzle) has \(p.testInputs.count))")
        }
        return evaluation().ranked(puzzle: p.name, testIndex: test)
    }

    func puzzle(_ i: Int) throws -> EvaluationPuzzle {
        guard puzzles.indices.contains(i) else { throw CAPIError.argument("puzzle \(i) is out of range (\(puzzles.count) puzzles)") }
        return puzzles[i]
    }
}
