import Runtime
import Testing

/// `BlasBuffers.coreTypeOverride`: OpenBLAS's own choice is kept when it uses the CPU's vector
/// units, and replaced when it fell back below them (docs/precision.md, OpenBLAS's kernels).
@Suite struct BlasCoreTests {
    @Test func fallbackCoresAreReplacedByTheCPUsLevel() {
        #expect(BlasBuffers.coreTypeOverride(chosen: "Prescott", vectorLevel: 2) == "SkylakeX")
        #expect(BlasBuffers.coreTypeOverride(chosen: "Nehalem", vectorLevel: 1) == "Haswell")
        #expect(BlasBuffers.coreTypeOverride(chosen: "Sandybridge", vectorLevel: 2) == "SkylakeX")
    }

    @Test func coresThatUseTheVectorUnitsAreKept() {
        for core in ["SkylakeX", "Cooperlake", "Haswell", "Zen", "SapphireRapids"] {
            #expect(BlasBuffers.coreTypeOverride(chosen: core, vectorLevel: 2) == nil, "\(core)")
        }
        #expect(BlasBuffers.coreTypeOverride(chosen: "Haswell", vectorLevel: 1) == nil)
        #expect(BlasBuffers.coreTypeOverride(chosen: "Prescott", vectorLevel: 0) == nil)
    }

    /// The tests run under `swift test`, which does not re-execute; whatever core OpenBLAS runs,
    /// its name is readable.
    @Test func coreNameIsKnown() { #expect(!BlasBuffers.coreName.isEmpty && BlasBuffers.coreName != "unknown") }
}
