import TRMCore

/// Which part of an evaluation one process runs: shard `index` (0-based) of `count`. The query list
/// of an evaluation (every query of every puzzle, in puzzle order, each puzzle's queries in the
/// order its task builds them) is cut into `count` contiguous ranges by `range(queries:)`; that
/// function is the one split rule, used by the shard that runs and by the merge that checks it.
public struct ShardSpec: Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// Shard `index` of `count`: 0 ≤ index < count, 1 ≤ count ≤ `maxCount`.
    public init(index: Int, count: Int) throws {
        guard (1...Self.maxCount).contains(count) else {
            throw TRMError(.invalidInput, "a shard count must be 1...\(Self.maxCount), got \(count)")
        }
        guard (0..<count).contains(index) else {
            throw TRMError(.invalidInput, "shard index \(index) is not in 0..<\(count) (shards are numbered from 0)")
        }
        self.index = index
        self.count = count
    }

    /// The most shards one evaluation may be cut into.
    public static let maxCount = 1_000_000

    /// `I/N` as `--shard` spells it (I from 0).
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw TRMError(.invalidInput, "--shard wants I/N (shard I of N, I from 0), got '\(text)'")
        }
        try self.init(index: i, count: n)
    }

    /// The shard a scheduler assigned through the environment, or nil when it assigned none:
    /// a Slurm job array (`SLURM_ARRAY_TASK_ID` minus `SLURM_ARRAY_TASK_MIN`, of
    /// `SLURM_ARRAY_TASK_COUNT`; the array must be a contiguous range such as `--array=0-7`), or a
    /// Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, of `count`, which Kubernetes does not export).
    public static func fromEnvironment(_ env: [String: String], count: Int?) throws -> ShardSpec? {
        func int(_ name: String) throws -> Int? {
            guard let text = env[name] else { return nil }
            guard let v = Int(text) else { throw TRMError(.invalidInput, "\(name)='\(text)' is not an integer") }
            return v
        }
        if let id = try int("SLURM_ARRAY_TASK_ID") {
            guard let n = try int("SLURM_ARRAY_TASK_COUNT") else {
                throw TRMError(.invalidInput, "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
            }
            let low = try int("SLURM_ARRAY_TASK_MIN") ?? 0
            if let high = try int("SLURM_ARRAY_TASK_MAX"), high - low + 1 != n {
                throw TRMError(
                    .invalidInput,
                    "the Slurm array \(low)-\(high) has \(n) tasks, not \(high - low + 1): use a contiguous --array=\(low)-\(low + n - 1)")
            }
            if let count, count != n { throw TRMError(.invalidInput, "--shard-count \(count) but the Slurm array has \(n) tasks") }
            return try ShardSpec(index: id - low, count: n)
        }
        if let index = try int("JOB_COMPLETION_INDEX") {
            guard let count else {
                throw TRMError(.invalidInput, "JOB_COMPLETION_INDEX is set: pass --shard-count N (the Job's completions)")
            }
            return try ShardSpec(index: index, count: count)
        }
        return nil
    }

    /// This shard's queries: `index * queries / count ..< (index + 1) * queries / count`. The ranges
    /// of a count are contiguous, cover 0..<queries once, and differ in size by at most one.
    public func range(queries: Int) -> Range<Int> {
        let lo = Int((Int128(index) * Int128(queries)) / Int128(count))
        let hi = Int((Int128(index + 1) * Int128(queries)) / Int128(count))
        return lo..<hi
    }

    public var description: String { "\(index)/\(count)" }
}
