import GraphIR
import TRMCore

/// Arguments of the instructions that move data: Gather, Transpose, Concat, Slice, Pad, the copy a
/// Reshape becomes, and ArgMax. Each runs as one part.

/// out[i] = table[indices[i]]; an index outside the table is an `.invalidInput` error.
struct GatherArgs: Instruction {
    var table: ValuePointer
    var rows, cols: Int
    var indices: UnsafeMutablePointer<Int32>
    var count: Int
    var out: ValuePointer
    /// The node's name, for the error.
    var node: String

    func run(phase: Int, items: Range<Int>, _ context: PartContext) throws(TRMError) {
        if let bad = Layout.gather(table, rows: rows, cols: cols, indices, count: count, out) {
            throw TRMError(.invalidInput, "\(node): index \(bad) is outside the table's \(rows) rows")
        }
    }
}

/// out = x with its axes permuted.
struct TransposeArgs: Instruction {
    var x, out: ValuePointer
    var dims, perm: [Int]

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        Layout.transpose(x, out, dims: dims, perm: perm)
    }
}

/// out = the parts joined along an axis of `sizes` extents, between `outer` and `inner` elements.
struct ConcatArgs: Instruction {
    var parts: [UnsafePointer<Float>]
    var sizes: [Int]
    var out: ValuePointer
    var outer, inner: Int

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        Layout.concat(parts, axisSizes: sizes, out, outer: outer, inner: inner)
    }
}

/// out = x[..., start..<end, ...] along an axis of `axis` extent.
struct SliceArgs: Instruction {
    var x, out: ValuePointer
    var outer, axis, inner: Int
    var start, end: Int

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        Layout.slice(x, out, outer: outer, axis: axis, inner: inner, start: start, end: end)
    }
}

/// out = x with `after` zeros appended along an axis of `axis` extent.
struct PadArgs: Instruction {
    var x, out: ValuePointer
    var outer, axis, inner: Int
    var after: Int

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        Layout.pad(x, out, outer: outer, axis: axis, inner: inner, after: after)
    }
}

/// out = x (a Reshape; nothing to do when the planner gave both the same place).
struct CopyArgs: Instruction {
    var x, out: ValuePointer
    var count: Int

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        if x != out { out.update(from: x, count: count) }
    }
}

/// out[r] = the index of the largest of row r's `cols` values (int32).
struct ArgmaxArgs: Instruction {
    var x: ValuePointer
    var out: UnsafeMutablePointer<Int32>
    var rows, cols: Int

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        Layout.argmax(x, out, rows: rows, cols: cols)
    }
}
