import Foundation
import TRMCore

/// Candidate files of the shards of one evaluation, checked against each other: `merge` votes and
/// scores them with the one `Evaluation`, `status` reports their progress. The rules are
/// docs/sharding.md §3.
public enum ShardMerge {
    /// A candidate file and the path it was read from.
    public struct Shard: Sendable {
        public var path: String
        public var file: CandidateFile
    }

    /// The merged evaluation: every shard's records added in query order, as a single run adds them.
    public struct Merged: Sendable {
        public var header: CandidateHeader
        public var evaluation: Evaluation
        /// The shards in shard order.
        public var shards: [Shard]
        public var queries: Int { header.queries }
        /// Compute seconds summed over the shards.
        public var seconds: Double { shards.map(\.file.seconds).reduce(0, +) }
        public var batchSteps: Int { shards.map(\.file.batchSteps).reduce(0, +) }
    }

    /// Reads every file (`CandidateFile.read`) and checks that they are shards of one evaluation: the
    /// evaluation most of them name (ties: the first file's); a file naming another is refused by name.
    /// Returns the shards in argument order and the evaluation's header.
    public static func load(_ paths: [String]) throws -> (shards: [Shard], header: CandidateHeader) {
        guard !paths.isEmpty else { throw TRMError(.invalidInput, "no candidate files given") }
        let shards = try paths.map { Shard(path: $0, file: try CandidateFile.read(path: $0)) }
        // Group by evaluation: a header joins the first group it does not differ from.
        var groups: [(header: CandidateHeader, members: [Int])] = []
        for (i, s) in shards.enumerated() {
            if let g = groups.firstIndex(where: { $0.header.difference(from: s.file.header) == nil }) {
                groups[g].members.append(i)
            } else {
                groups.append((s.file.header, [i]))
            }
        }
        let main = groups.indices.max { a, b in
            groups[a].members.count < groups[b].members.count || (groups[a].members.count == groups[b].members.count && a > b)
        }!
        let header = groups[main].header
        for s in shards {
            if let why = header.difference(from: s.file.header) {
                let majority = shards[groups[main].members[0]].path
                let others = groups[main].members.count > 1 ? " and \(groups[main].members.count - 1) more" : ""
                throw TRMError(.invalidInput, "\(s.path) does not belong with \(majority)\(others): it is a shard of \(why)")
            }
        }
        return (shards, header)
    }

    /// Each shard index of the split at most once: two files holding the same shard are refused by name.
    static func byIndex(_ shards: [Shard]) throws -> [Int: Shard] {
        var found: [Int: Shard] = [:]
        for s in shards {
            if let other = found[s.file.header.shard.index] {
                throw TRMError(.invalidInput, "\(other.path) and \(s.path) both hold shard \(s.file.header.shard): give each shard once")
            }
            found[s.file.header.shard.index] = s
        }
        return found
    }

    /// Merges the candidate files of every shard of one evaluation. Refused, naming the file or the
    /// shard: a file that is not a complete, intact candidate file (truncated, damaged, unfinished), a
    /// file of another evaluation (model, data, flags, split, puzzles), a shard given twice, and a
    /// missing shard. The records are then added to one `Evaluation` in query order, so its votes,
    /// pass@K and submission equal those of the unsharded run.
    public static func merge(_ paths: [String]) throws -> Merged {
        let (shards, header) = try load(paths)
        let found = try byIndex(shards)
        let n = header.shard.count
        if let missing = (0..<n).first(where: { found[$0] == nil }) {
            let spec = try ShardSpec(index: missing, count: n)
            throw TRMError(
                .invalidInput,
                "shard \(spec) (queries \(spec.range(queries: header.queries))) is missing: none of the \(paths.count) files given holds it"
            )
        }
        let ordered = (0..<n).map { found[$0]! }
        for s in ordered where !s.file.isComplete {
            throw TRMError(
                .invalidInput,
                "\(s.path): shard \(s.file.header.shard) is unfinished (\(s.file.records.count) of \(s.file.header.range.count) queries): rerun it, it resumes"
            )
        }
        var evaluation = Evaluation(puzzles: header.puzzles, ks: header.ks)
        for s in ordered { evaluation.add(contentsOf: s.file.records.lazy.map(\.prediction)) }
        return Merged(header: header, evaluation: evaluation, shards: ordered)
    }

    /// One shard's progress.
    public struct Progress: Sendable {
        public var shard: ShardSpec
        /// The file, nil for a shard none of the given files holds.
        public var path: String?
        public var done: Int
        public var total: Int
        public var seconds: Double
        /// Queries per second of compute so far (nil before any).
        public var rate: Double? { done > 0 && seconds > 0 ? Double(done) / seconds : nil }
    }

    /// Progress of every shard of the evaluation the files belong to, by shard index.
    public struct Status: Sendable {
        public var header: CandidateHeader
        public var shards: [Progress]
        public var done: Int { shards.map(\.done).reduce(0, +) }
        public var total: Int { header.queries }

        /// Seconds until the last shard finishes, if every unfinished shard runs at once at its own
        /// rate (a shard without one, at the mean rate of those with one); nil when no shard has a rate.
        public var eta: Double? {
            let rates = shards.compactMap(\.rate)
            guard !rates.isEmpty else { return done == total ? 0 : nil }
            let mean = rates.reduce(0, +) / Double(rates.count)
            return shards.map { Double($0.total - $0.done) / ($0.rate ?? mean) }.max() ?? 0
        }
    }

    /// The progress of the shards in `paths` (unfinished files allowed, shards not among them
    /// reported as not started), with the same checks as `merge` for damaged, foreign and doubled files.
    public static func status(_ paths: [String]) throws -> Status {
        let (shards, header) = try load(paths)
        let found = try byIndex(shards)
        let list = try (0..<header.shard.count).map { i -> Progress in
            let spec = try ShardSpec(index: i, count: header.shard.count)
            let total = spec.range(queries: header.queries).count
            guard let s = found[i] else { return Progress(shard: spec, path: nil, done: 0, total: total, seconds: 0) }
            return Progress(shard: spec, path: s.path, done: s.file.records.count, total: total, seconds: s.file.seconds)
        }
        return Status(header: header, shards: list)
    }
}
