import Foundation
import GraphIR

// The input side of the structure-aware targets (StructuredTargets.swift): the program reader, the
// table of interesting values and the editable config JSON document.

/// Reads a fuzz input front to back; past the end every read gives 0.
struct FuzzProgram {
    let bytes: [UInt8]
    var index = 0
    /// Descriptions of the mutations applied (only when explaining an input).
    var log: [String]?

    init(_ bytes: [UInt8], explain: Bool = false) {
        self.bytes = bytes
        log = explain ? [] : nil
    }

    var isAtEnd: Bool { index >= bytes.count }

    mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func u16() -> Int { Int(byte()) | Int(byte()) << 8 }

    /// A LEB128 varint (at most 10 bytes), as the Int64 with its bit pattern.
    mutating func varint() -> Int64 {
        var v: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            let b = byte()
            v |= UInt64(b & 0x7f) << UInt64(shift)
            if b & 0x80 == 0 { break }
        }
        return Int64(bitPattern: v)
    }

    /// Eight bytes, little-endian, as a Double's bit pattern.
    mutating func double() -> Double {
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(byte()) << UInt64(8 * i) }
        return Double(bitPattern: v)
    }

    mutating func note(_ s: @autoclosure () -> String) {
        if log != nil { log!.append(s()) }
    }
}

// MARK: - interesting values

enum Interesting {
    /// Integers around the readers' limits (ModelConfig.validate, TrmgFormat, Verifier) and the
    /// usual overflow boundaries.
    static let ints: [Int64] = [
        0, 1, -1, 2, 3, 4, 7, 8, 16, 17, 63, 64, 65, 255, 256, 1024, 1025, 4096, 4097, 65536,
        1_000_000, 1 << 20, (1 << 20) + 1, 1 << 26, (1 << 26) + 1, 1 << 28, 1 << 30, Int64(Int32.max),
        1 << 31, 1 << 32, 10 << 30, 1 << 36, 1 << 38, (1 << 38) + 1, 1 << 53, (1 << 53) + 1,
        Int64.max, Int64.min, Int64.min + 1, -64,
    ]

    /// A value of `ints`, a raw varint from the input, or `current` moved by a signed byte (× 64
    /// when `aligned`, so that placements keep their 64-byte alignment).
    static func int(_ p: inout FuzzProgram, current: Int = 0, aligned: Bool = false) -> Int {
        let b = Int(p.byte())
        if b < ints.count { return Int(ints[b]) }
        if b % 2 == 0 { return Int(p.varint()) }
        let delta = Int(Int8(bitPattern: p.byte())) * (aligned ? 64 : 1)
        return current.addingReportingOverflow(delta).partialValue
    }

    /// A count for lists the mutations build (identifiers): small, or just past TrmgFormat.maxRepeated.
    static func count(_ p: inout FuzzProgram) -> Int {
        let table = [0, 1, 2, 3, 4, 16, 1000, 65_537, TrmgFormat.maxRepeated + 1]
        let b = Int(p.byte())
        return b < table.count ? table[b] : b % 64
    }

    static let longString = JSONText.quote(String(repeating: "a", count: 1 << 16))
    static let hugeArray = "[" + [String](repeating: "0", count: 1 << 16).joined(separator: ",") + "]"

    /// JSON texts: numbers at the limits in integer, exponent and fraction spellings, numbers no
    /// Int or Double holds, every other JSON type, the enum strings of ModelConfig, and text that is
    /// not JSON at all.
    static let json: [String] =
        ints.map { String($0) } + [
            "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e6", "1E3", "2e0", "1.0", "2.5", "-0",
            "0.5", "1e-30", "1e300", "-1e300", "5e-324", "1e309", "0.0", "64.000001",
            "\"NaN\"", "\"Infinity\"", "\"2\"", "\"\"", longString, hugeArray, "[]", "[2]", "{}", "null", "true", "false",
            "\"attn\"", "\"mlp\"", "\"mlp_t\"", "\"mamba2\"", "\"rope\"", "\"learned\"", "\"none\"",
            "\"causal\"", "\"reverse\"", "\"bidirectional\"", "\"ATTN\"",
            "NaN", "Infinity", "", "01", "0x10", "{\"d_state\":1e6}",
        ]

    /// A value of `json`, or a raw varint or double from the input, as JSON text.
    static func jsonValue(_ p: inout FuzzProgram) -> String {
        let b = Int(p.byte())
        if b < json.count { return json[b] }
        switch b % 3 {
        case 0, 1: return String(p.varint())
        default:
            let d = p.double()
            return d.isNaN ? "NaN" : d.isInfinite ? (d > 0 ? "1e999" : "-1e999") : "\(d)"
        }
    }

    /// Printable form of a JSON value for explanations.
    static func short(_ s: String) -> String { s.count > 40 ? "\(s.prefix(20))… (\(s.utf8.count) bytes)" : s }
}

// MARK: - config JSON as an editable document

/// A JSON object kept as ordered (key, JSON text) pairs, so that a mutation can write any text,
/// JSON or not, duplicate keys and nested objects.
struct JSONDoc {
    indirect enum Value {
        case raw(String)
        case object([(String, Value)])
    }

    var entries: [(String, Value)]
    /// When set, the whole document is this text instead of an object.
    var replacement: String?

    /// Every key of ModelConfig, nested Mamba keys as paths.
    static let keys: [[String]] = [
        ["hidden"], ["heads"], ["expansion"], ["sublayers"], ["H_cycles"], ["L_cycles"], ["halt_max_steps"], ["vocab"],
        ["seq_len"], ["puzzle_emb_len"], ["puzzle_emb_ndim"], ["num_puzzle_ids"], ["pos_encodings"], ["rope_theta"],
        ["rms_eps"], ["mamba"], ["mamba", "d_state"], ["mamba", "d_conv"], ["mamba", "expand"], ["mamba", "headdim"],
        ["mamba", "ngroups"], ["mamba", "direction"],
    ]
    /// Keys the config does not have (and near misses of keys it has).
    static let unknownKeys: [[String]] = [
        ["zzz"], [""], ["Hidden"], ["H_cycles "], ["mamba.d_state"], ["__metadata__"], ["\u{0}"], ["mamba", "zzz"],
        [String(repeating: "k", count: 4096)],
    ]

    init(entries: [(String, Value)]) { self.entries = entries }

    /// The document of `c`, with the keys and spellings of `ModelConfig.jsonString()`.
    init(_ c: ModelConfig) {
        func d(_ x: Double) -> Value { .raw("\(x)") }
        func i(_ x: Int) -> Value { .raw(String(x)) }
        let m = c.mamba
        entries = [
            ("H_cycles", i(c.hCycles)), ("L_cycles", i(c.lCycles)), ("expansion", d(c.expansion)),
            ("halt_max_steps", i(c.haltMaxSteps)), ("heads", i(c.heads)), ("hidden", i(c.hidden)),
            (
                "mamba",
                .object([
                    ("d_conv", i(m.dConv)), ("d_state", i(m.dState)), ("direction", .raw(JSONText.quote(m.direction.rawValue))),
                    ("expand", i(m.expand)), ("headdim", i(m.headdim)), ("ngroups", i(m.ngroups)),
                ])
            ),
            ("num_puzzle_ids", i(c.numPuzzleIds)), ("pos_encodings", .raw(JSONText.quote(c.posEncodings.rawValue))),
            ("puzzle_emb_len", i(c.puzzleEmbLen)), ("puzzle_emb_ndim", i(c.puzzleEmbNdim)), ("rms_eps", d(c.rmsEps)),
            ("rope_theta", d(c.ropeTheta)), ("seq_len", i(c.seqLen)),
            ("sublayers", .raw("[" + c.sublayers.map { JSONText.quote($0.rawValue) }.joined(separator: ",") + "]")),
            ("vocab", i(c.vocab)),
        ]
    }

    func text() -> String {
        if let replacement { return replacement }
        return Self.render(.object(entries))
    }

    static func render(_ v: Value) -> String {
        switch v {
        case .raw(let s): return s
        case .object(let list): return "{" + list.map { JSONText.quote($0.0) + ":" + render($0.1) }.joined(separator: ",") + "}"
        }
    }

    /// Sets `path` to `text` (the first entry of that key; appended when missing). A nested path
    /// whose parent is not an object makes it one.
    mutating func set(_ path: [String], _ text: String) {
        Self.set(&entries, path[...], .raw(text), duplicate: false)
    }

    /// Appends a second entry for `path`'s last key.
    mutating func duplicate(_ path: [String], _ text: String) {
        Self.set(&entries, path[...], .raw(text), duplicate: true)
    }

    mutating func delete(_ path: [String]) {
        if path.count == 1 {
            entries.removeAll { $0.0 == path[0] }
        } else if let i = entries.firstIndex(where: { $0.0 == path[0] }), case .object(var inner) = entries[i].1 {
            inner.removeAll { $0.0 == path[1] }
            entries[i].1 = .object(inner)
        }
    }

    private static func set(_ list: inout [(String, Value)], _ path: ArraySlice<String>, _ value: Value, duplicate: Bool) {
        let key = path.first!
        if path.count == 1 {
            if !duplicate, let i = list.firstIndex(where: { $0.0 == key }) { list[i].1 = value } else { list.append((key, value)) }
            return
        }
        var inner: [(String, Value)] = []
        let i = list.firstIndex { $0.0 == key }
        if let i, case .object(let existing) = list[i].1 { inner = existing }
        set(&inner, path.dropFirst(), value, duplicate: duplicate)
        if let i { list[i].1 = .object(inner) } else { list.append((key, .object(inner))) }
    }

    static let configOps = 9

    /// Applies config mutation `op` (0..<configOps), reading its operands.
    mutating func mutate(_ op: Int, _ p: inout FuzzProgram, what: String) {
        func name(_ path: [String]) -> String { path.joined(separator: ".") }
        switch op {
        case 0, 1, 2, 3:
            let key = Self.keys[Int(p.byte()) % Self.keys.count], v = Interesting.jsonValue(&p)
            set(key, v)
            p.note("\(what) \(name(key)) = \(Interesting.short(v))")
        case 4:
            let key = Self.keys[Int(p.byte()) % Self.keys.count]
            delete(key)
            p.note("\(what) delete \(name(key))")
        case 5:
            let key = Self.unknownKeys[Int(p.byte()) % Self.unknownKeys.count], v = Interesting.jsonValue(&p)
            set(key, v)
            p.note("\(what) add unknown \(Interesting.short(name(key))) = \(Interesting.short(v))")
        case 6:
            let key = Self.keys[Int(p.byte()) % Self.keys.count], v = Interesting.jsonValue(&p)
            duplicate(key, v)
            p.note("\(what) duplicate \(name(key)) = \(Interesting.short(v))")
        case 7:
            // 0 to 69 sub-layers (the limit is 64), each a kind or an unknown name.
            let kinds = SublayerKind.allCases.map { JSONText.quote($0.rawValue) } + ["\"mamba3\""]
            let n = Int(p.byte()) % 70
            let list = (0..<n).map { _ in kinds[Int(p.byte()) % kinds.count] }
            set(["sublayers"], "[" + list.joined(separator: ",") + "]")
            p.note("\(what) sublayers = [\(list.joined(separator: ","))]")
        default:
            let v = Interesting.jsonValue(&p)
            replacement = v
            p.note("\(what) whole document = \(Interesting.short(v))")
        }
    }
}
