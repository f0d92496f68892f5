import Foundation
import TRMCore

/// One query's outcome as a shard records it: which query it was (its index in the evaluation's
/// query list, its puzzle, test pair and identifier), the prediction decoded into the puzzle's
/// original frame (nil: it did not decode), q_halt, the ACT steps it ran and, when votes are keyed
/// by input (official ARC folders), the de-augmented input. Enough to cast its vote exactly as a
/// single run would (`prediction`).
public struct CandidateRecord: Sendable, Equatable {
    public var query: Int
    public var puzzle: String
    public var testIndex: Int
    public var identifier: String
    public var answer: Grid?
    public var qHalt: Float
    public var steps: Int
    public var input: Grid?

    public init(
        query: Int, puzzle: String, testIndex: Int, identifier: String, answer: Grid?, qHalt: Float, steps: Int, input: Grid?
    ) {
        self.query = query
        self.puzzle = puzzle
        self.testIndex = testIndex
        self.identifier = identifier
        self.answer = answer
        self.qHalt = qHalt
        self.steps = steps
        self.input = input
    }

    /// The vote this record casts in an `Evaluation`.
    public var prediction: Prediction {
        Prediction(puzzle: puzzle, testIndex: testIndex, answer: answer, qHalt: qHalt, input: input)
    }

    /// Equal when every field is, q_halt by its bits.
    public static func == (a: CandidateRecord, b: CandidateRecord) -> Bool {
        a.query == b.query && a.puzzle == b.puzzle && a.testIndex == b.testIndex && a.identifier == b.identifier
            && a.answer == b.answer && a.qHalt.bitPattern == b.qHalt.bitPattern && a.steps == b.steps && a.input == b.input
    }
}

/// What a candidate file's first line says: the evaluation it belongs to (model and data by
/// content hash, the flags that change results, the puzzles with their truth, the K values and the
/// submission layout) and which shard of it the file holds. Two shards belong to the same
/// evaluation when `difference(from:)` is nil.
public struct CandidateHeader: Sendable {
    /// The format tag of the first line.
    public static let format = "trm-candidates/1"

    /// A model or data input: the path it was read from (informative) and the SHA-256 of its content
    /// (`ContentHash`; for generated data, of the encoded puzzles).
    public struct Input: Sendable, Equatable {
        public var path: String?
        public var sha256: String
        public init(path: String?, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    public var model: Input
    public var data: Input
    public var shard: ShardSpec
    /// Queries in the whole evaluation (all shards).
    public var queries: Int
    /// The options that change results, by option name (absent: not given).
    public var flags: [String: String]
    /// Options that do not change results (batch, threads), as the shard was first started; not checked.
    public var run: [String: String]
    /// The task's title, as the report prints it.
    public var title: String
    public var ks: [Int]
    public var submissionStyle: Evaluation.SubmissionStyle
    /// The evaluation's puzzles in scoring order, with their truth: what the merge scores against.
    public var puzzles: [EvaluationPuzzle]

    public init(
        model: Input, data: Input, shard: ShardSpec, queries: Int, flags: [String: String], run: [String: String], title: String,
        ks: [Int], submissionStyle: Evaluation.SubmissionStyle, puzzles: [EvaluationPuzzle]
    ) {
        self.model = model
        self.data = data
        self.shard = shard
        self.queries = queries
        self.flags = flags
        self.run = run
        self.title = title
        self.ks = ks
        self.submissionStyle = submissionStyle
        self.puzzles = puzzles
    }

    /// The data hash of a generated test set (no data file): the SHA-256 of its puzzles as the header
    /// lists them.
    public static func generatedDataHash(_ puzzles: [EvaluationPuzzle]) -> String {
        SHA256.hex(CandidateCoding.puzzlesJSON(puzzles))
    }

    /// This shard's queries, by the split rule (`ShardSpec.range`).
    public var range: Range<Int> { shard.range(queries: queries) }

    /// Why `other` is not a shard of the same evaluation as this one (model, data, flags, query count,
    /// shard count, K values, title, submission layout or puzzles, the first that differs; every flag
    /// that differs), or nil.
    public func difference(from other: CandidateHeader) -> String? {
        if model.sha256 != other.model.sha256 {
            return "another model (sha256 \(other.model.sha256.prefix(12))…, not \(model.sha256.prefix(12))…)"
        }
        if data.sha256 != other.data.sha256 {
            return "other data (sha256 \(other.data.sha256.prefix(12))…, not \(data.sha256.prefix(12))…)"
        }
        let flagChanges = Set(flags.keys).union(other.flags.keys).sorted().filter { flags[$0] != other.flags[$0] }
        if !flagChanges.isEmpty {
            let each = flagChanges.map { "--\($0) \(other.flags[$0] ?? "not given"), not \(flags[$0] ?? "not given")" }
            return "other flags (\(each.joined(separator: "; ")))"
        }
        if shard.count != other.shard.count { return "another split (\(other.shard.count) shards, not \(shard.count))" }
        if queries != other.queries { return "another query list (\(other.queries) queries, not \(queries))" }
        if ks != other.ks { return "other K values (\(other.ks), not \(ks))" }
        if title != other.title || submissionStyle != other.submissionStyle { return "another task (\(other.title), not \(title))" }
        if CandidateCoding.puzzlesJSON(puzzles) != CandidateCoding.puzzlesJSON(other.puzzles) { return "other puzzles" }
        return nil
    }
}

/// A candidate file read back: its header, the records of the queries done so far (consecutive
/// from the shard's first query) and the trailer's bookkeeping. The layout is docs/sharding.md.
public struct CandidateFile: Sendable {
    public var header: CandidateHeader
    public var records: [CandidateRecord]
    /// Compute seconds spent on the records, summed over every run of the shard.
    public var seconds: Double
    /// Step graphs executed for the records, summed over every run.
    public var batchSteps: Int
    /// When the file was last written (seconds since 1970).
    public var updated: Double

    /// True when every query of the shard's range is recorded.
    public var isComplete: Bool { records.count == header.range.count }

    /// The largest candidate file read (refused above it before reading).
    public static let maxBytes = 4 << 30

    /// Reads and checks a candidate file: the header's format and split, every record line, the
    /// trailer (whose absence means the file is truncated) and the SHA-256 it holds of everything
    /// before it. Every error names `path`.
    public static func read(path: String) throws -> CandidateFile {
        let bytes = try AtomicFile.read(path, limit: maxBytes)
        return try parse(bytes, path: path)
    }

    /// `read` on bytes already in memory; `path` names them in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws -> CandidateFile {
        func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "\(path): \(why)") }
        guard !bytes.isEmpty else { throw fail("empty, not a candidate file") }
        guard bytes.last == 0x0A else { throw fail("truncated: it does not end with its trailer line") }
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for i in bytes.indices where bytes[i] == 0x0A {
            lines.append(bytes[start..<i])
            start = i + 1
        }
        guard let first = lines.first, let headerObject = try? CandidateCoding.object(first),
            headerObject["format"] as? String == CandidateHeader.format
        else { throw fail("not a candidate file (its first line is not a \(CandidateHeader.format) header)") }
        let header = try CandidateCoding.header(headerObject, fail: fail)
        guard lines.count >= 2, let trailer = try? CandidateCoding.object(lines[lines.count - 1]),
            let end = trailer["end"] as? [String: Any]
        else { throw fail("truncated: its last line is not the trailer") }
        let trailerStart = bytes.count - lines[lines.count - 1].count - 1
        guard let hash = end["sha256"] as? String, hash == SHA256.hex(bytes[0..<trailerStart]) else {
            throw fail("damaged: its contents do not match the SHA-256 its trailer records")
        }
        let range = header.range
        var records: [CandidateRecord] = []
        records.reserveCapacity(lines.count - 2)
        for (n, line) in lines[1..<(lines.count - 1)].enumerated() {
            guard let object = try? CandidateCoding.object(line), let record = CandidateCoding.record(object) else {
                throw fail("line \(n + 2) is not a candidate record")
            }
            guard record.query == range.lowerBound + n, range.contains(record.query) else {
                throw fail(
                    "line \(n + 2) records query \(record.query), but shard \(header.shard) holds query \(range.lowerBound + n) there")
            }
            records.append(record)
        }
        guard let count = end["queries"] as? Int, count == records.count, let complete = end["complete"] as? Bool,
            complete == (records.count == range.count)
        else { throw fail("damaged: its trailer does not agree with its \(records.count) records") }
        return CandidateFile(
            header: header, records: records, seconds: (end["seconds"] as? Double) ?? 0, batchSteps: (end["batch_steps"] as? Int) ?? 0,
            updated: (end["updated"] as? Double) ?? 0)
    }
}

/// Writes one shard's candidate file as the shard runs: opens it (resuming a file the same shard
/// of the same evaluation left, starting fresh when there is none), takes records in query order
/// and rewrites the whole file atomically at each `checkpoint()`, so a killed shard loses only
/// the records added since its last checkpoint and a rerun continues after them.
public final class CandidateWriter {
    public let path: String
    /// The header written: the existing file's when resuming (its `run` keeps the first start's values).
    public let header: CandidateHeader
    /// Records already in the file when it was opened (0 for a fresh file).
    public let resumed: Int
    /// Records written or buffered so far.
    public private(set) var count: Int
    private var bytes: [UInt8]
    private var hash = SHA256()
    private var seconds: Double
    private var batchSteps: Int
    private var runStart = Date()

    /// Opens `path` for shard `header.shard`: a missing file starts fresh (and is written at once,
    /// empty, so `status` sees the shard); a candidate file of the same evaluation and shard is
    /// resumed; anything else (another evaluation, another shard, a damaged or foreign file) is an
    /// error naming the file, and the file is left alone.
    public init(path: String, header: CandidateHeader) throws {
        self.path = path
        if FileManager.default.fileExists(atPath: path) {
            let old: CandidateFile
            do { old = try CandidateFile.read(path: path) } catch let e as TRMError {
                throw TRMError(.invalidInput, "\(e.message); it was left as it is: remove it to start shard \(header.shard) over")
            }
            if let why = header.difference(from: old.header) {
                throw TRMError(.invalidInput, "\(path) holds a shard of \(why): remove it, or choose another --candidates path")
            }
            guard old.header.shard == header.shard else {
                throw TRMError(
                    .invalidInput, "\(path) holds shard \(old.header.shard), not \(header.shard): choose another --candidates path")
            }
            self.header = old.header
            resumed = old.records.count
            seconds = old.seconds
            batchSteps = old.batchSteps
            bytes = CandidateCoding.headerLine(old.header)
            for r in old.records { bytes += CandidateCoding.recordLine(r) }
        } else {
            self.header = header
            resumed = 0
            seconds = 0
            batchSteps = 0
            bytes = CandidateCoding.headerLine(header)
        }
        count = resumed
        hash.update(bytes)
        if resumed == 0 { try checkpoint() }
    }

    /// The index of the next query to run.
    public var next: Int { header.range.lowerBound + count }
    /// True when every query of the shard is recorded.
    public var isComplete: Bool { count == header.range.count }

    /// Adds the record of query `next`, with the step graphs it took (kept until the next checkpoint).
    public func append(_ record: CandidateRecord) {
        precondition(record.query == next && next < header.range.upperBound, "records come in query order, within the shard")
        let line = CandidateCoding.recordLine(record)
        bytes += line
        hash.update(line)
        count += 1
    }

    /// Adds step graphs to the trailer's count.
    public func addBatchSteps(_ n: Int) { batchSteps += n }

    /// Compute seconds of every run so far, this one included.
    public var totalSeconds: Double { seconds + Date().timeIntervalSince(runStart) }

    /// Writes the file (header, every record so far, trailer) atomically.
    public func checkpoint() throws {
        let now = Date()
        seconds += now.timeIntervalSince(runStart)
        runStart = now
        let trailer = CandidateCoding.trailerLine(
            queries: count, complete: isComplete, seconds: seconds, batchSteps: batchSteps, updated: now.timeIntervalSince1970,
            sha256: hash.hexDigest())
        try bytes.withUnsafeBytes { b in
            try trailer.withUnsafeBytes { t in try AtomicFile.write(chunks: [b, t], to: path) }
        }
    }
}
