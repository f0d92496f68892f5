import Foundation
import GraphIR

/// The kernel dispatch of a session. Every instruction runs the same way: its phases one after
/// another, each split into parts over its work items and run on the session's thread pool
/// (OpenBLAS is called single-threaded inside a part).
extension Session: PartRunner {
    func execute(_ index: Int) throws {
        for (phase, work) in program[index].phases.enumerated() {
            pool.run(parts: work.parts(threads: threads), self, PartTag(index: index, phase: phase))
        }
        if let failure = partFailure {
            partFailure = nil
            throw failure
        }
    }

    func runPart(_ tag: PartTag, part: Int, of parts: Int) {
        let step = program[tag.index]
        let items = step.phases[tag.phase].items(part: part, of: parts)
        do throws(TRMError) {
            try step.instruction.run(phase: tag.phase, items: items, PartContext(scratch: scratch(part), shared: shared.floats(at: 0)))
        } catch {
            // Only single-part phases throw (`Instruction.run`), so no other part writes this.
            partFailure = error
        }
    }
}
