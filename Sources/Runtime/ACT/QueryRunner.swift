import Tasks
import TRMCore

/// Task queries through the ACT loop: each query's tokens and puzzle-embedding row in, its
/// prediction decoded back into the puzzle's original frame out (`TaskQuery.decode`), ready for
/// `Evaluation.add`. What trm-run's task mode and the C API's task layer (`trm_task_run`) run.
public enum QueryRunner {
    /// One query and the puzzle-embedding row it uses.
    public typealias Item = (query: TaskQuery, row: Int32)

    /// Queries per `ACTRunner.run` call: a few full batches, so the results of one call stay small
    /// for any number of queries while the slots stay full.
    public static func chunkSize(batch: Int) -> Int { batch * 8 }

    /// The predictions of `items`, in order, and the batch steps run. `progress(done, total)` is
    /// called after every batch step with queries done so far out of `items.count`. Throws what
    /// `ACTRunner.run` throws (a bad token, `ACTCancelled`).
    public static func predictions(
        _ items: [Item], runner: ACTRunner, halting: Halting, maxSteps: Int?, progress: ((Int, Int) -> Void)? = nil
    ) throws -> (predictions: [Prediction], batchSteps: Int) {
        var out: [Prediction] = []
        out.reserveCapacity(items.count)
        var batchSteps = 0
        let chunk = chunkSize(batch: runner.session.batch), l = runner.seqLen
        var start = 0
        while start < items.count {
            let part = items[start..<min(start + chunk, items.count)]
            let base = start
            let result = try runner.run(
                tokens: part.flatMap(\.query.tokens), puzzleIds: part.map(\.row), count: part.count, halting: halting,
                maxSteps: maxSteps
            ) { done, _ in progress?(base + done, items.count) }
            batchSteps += result.batchSteps
            for (i, item) in part.enumerated() {
                let preds = Array(result.preds[(i * l)..<((i + 1) * l)])
                out.append(
                    Prediction(
                        puzzle: item.query.puzzle, testIndex: item.query.testIndex, answer: item.query.decode(preds),
                        qHalt: result.qHalt[i], input: item.query.voteInput))
            }
            start += part.count
        }
        return (out, batchSteps)
    }
}
