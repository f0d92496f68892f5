import Foundation
import Testing

/// An ACT step allocates nothing on the heap, in fp32 and in bf16, whatever the attention head dim:
/// `trm-bench` counts every allocation of its process (malloc interposed, CMallocCounter) over the
/// timed steps. Head dims 8, 12, 32 and 64 cover the attention tiles' edges (d below 16, d not a
/// multiple of 16, one and two full 32-column panels); before the C kernel took every head dim, d 8
/// went to OpenBLAS and allocated 336 times per step.
@Suite struct AllocationFreeStepTests {
    @Test(arguments: [(64, 8), (96, 8), (64, 2), (128, 2)])
    func stepsAllocateNothing(hidden: Int, heads: Int) throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ckpt = dir + "/m.ckpt", model = dir + "/m.trmg", json = dir + "/bench.json"
        for preset in ["trm-attn", "tr-mamba2attn"] {
            let initRun = try Executables.run(
                "trm-train",
                ["init", "--preset", preset, "--task", "sudoku", "--grid", "6", "--hidden", "\(hidden)", "--heads", "\(heads)", "-o", ckpt])
            try #require(initRun.status == 0, "\(initRun.stderr)")
            try #require(try Executables.run("trm-compile", [ckpt, "-o", model, "-q"]).status == 0)
            let r = try Executables.run(
                "trm-bench",
                ["--models", model, "--batch", "2", "--threads", "2", "--precision", "fp32,bf16", "--repeat", "2", "--json", json])
            try #require(r.status == 0, "\(r.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
            let rows = report["results"] as! [[String: Any]]
            #expect(rows.count == 2)
            for row in rows {
                let allocations = row["allocations_per_step"] as! Double
                #expect(
                    allocations == 0,
                    "\(preset) hidden \(hidden), \(heads) heads (head dim \(hidden / heads)), \(row["precision"]!): \(allocations) allocations per step"
                )
            }
        }
    }
}
