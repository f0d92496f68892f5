import Foundation
import GraphIR
import TRMCore

/// One line of `model.ckpt.metrics.jsonl`: a training average over the last log interval or an
/// evaluation of the EMA weights on the held-out set.
public struct MetricsRecord: Sendable, Equatable {
    public enum Kind: String, Sendable { case train, eval }
    public var kind: Kind
    public var step: Int
    /// Named values, written in this order.
    public var values: [(String, Double)]

    public init(kind: Kind, step: Int, values: [(String, Double)]) {
        self.kind = kind
        self.step = step
        self.values = values
    }

    public static func == (a: MetricsRecord, b: MetricsRecord) -> Bool {
        a.kind == b.kind && a.step == b.step && a.values.map(\.0) == b.values.map(\.0) && a.values.map(\.1) == b.values.map(\.1)
    }

    public subscript(key: String) -> Double? { values.first { $0.0 == key }?.1 }

    public var jsonLine: String {
        let fields = values.map { k, v in "\"\(k)\":" + (v.isFinite ? "\(v)" : "null") }
        return "{\"kind\":\"\(kind.rawValue)\",\"step\":\(step)" + (fields.isEmpty ? "" : "," + fields.joined(separator: ",")) + "}"
    }

    /// Parses a line written by `jsonLine`; nil for anything else.
    public static func parse(_ line: String) -> MetricsRecord? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let kind = (object["kind"] as? String).flatMap(Kind.init), let step = object["step"] as? Int
        else { return nil }
        let values = object.keys.filter { $0 != "kind" && $0 != "step" }.sorted().compactMap { k -> (String, Double)? in
            (object[k] as? NSNumber).map { (k, $0.doubleValue) }
        }
        return MetricsRecord(kind: kind, step: step, values: values)
    }
}

/// The run's metrics file and the records so far (the training curve is drawn from them).
public struct MetricsLog {
    public let path: String
    public private(set) var records: [MetricsRecord] = []
    /// Set when an append failed: the next append rewrites the whole file from `records`.
    private var needsRewrite = false

    /// Starts a fresh log, or — resuming at `resumeStep` — keeps the records up to that step and drops
    /// later ones (they belong to the part of the run after the last checkpoint, which is redone).
    public init(path: String, resumeStep: Int?) throws {
        self.path = path
        if let resumeStep, FileManager.default.fileExists(atPath: path) {
            records = try Self.records(path: path).filter { $0.step <= resumeStep }
        }
        try AtomicFile.write(Array(records.map { $0.jsonLine + "\n" }.joined().utf8), to: path)
    }

    /// The records of a metrics file (lines that are not records are skipped).
    public static func records(path: String) throws -> [MetricsRecord] {
        let text = String(decoding: try AtomicFile.read(path, limit: 1 << 30), as: UTF8.self)
        return text.split(separator: "\n").compactMap { MetricsRecord.parse(String($0)) }
    }

    /// Appends one record to the file (one line, flushed). When the write fails (a full disk) the
    /// file is cut back to its last whole line and the record stays in `records`; the next append
    /// rewrites the file with every record, so nothing is lost once there is room again.
    public mutating func append(_ record: MetricsRecord) throws {
        records.append(record)
        if needsRewrite {
            try AtomicFile.write(Array(records.map { $0.jsonLine + "\n" }.joined().utf8), to: path)
            needsRewrite = false
            return
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            needsRewrite = true
            throw TRMError(.io, "cannot append to \(path)")
        }
        defer { try? handle.close() }
        let end = try handle.seekToEnd()
        do {
            try handle.write(contentsOf: Data((record.jsonLine + "\n").utf8))
        } catch {
            try? handle.truncate(atOffset: end)
            needsRewrite = true
            throw TRMError(.io, "cannot append to \(path): \(error.localizedDescription)")
        }
    }
}
