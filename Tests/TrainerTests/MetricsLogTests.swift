import Foundation
import Testing
import GraphIR
@testable import Trainer

@Suite struct MetricsLogTests {
    @Test func recordsRoundTripThroughJSONLines() {
        let r = MetricsRecord(kind: .eval, step: 12, values: [("exact", 0.25), ("count", 100)])
        #expect(MetricsRecord.parse(r.jsonLine) == MetricsRecord(kind: .eval, step: 12, values: [("count", 100), ("exact", 0.25)]))
        #expect(MetricsRecord.parse("{\"step\": 3}") == nil && MetricsRecord.parse("not json") == nil)
    }

    @Test func resumeKeepsOnlyTheStepsBeforeTheCheckpoint() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var log = try MetricsLog(path: path, resumeStep: nil)
        for step in [10, 20, 30] { try log.append(MetricsRecord(kind: .train, step: step, values: [("loss", 1 / Double(step))])) }
        let resumed = try MetricsLog(path: path, resumeStep: 20)
        #expect(resumed.records.map(\.step) == [10, 20])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 2)
        let fresh = try MetricsLog(path: path, resumeStep: nil)
        let after = try String(contentsOfFile: path, encoding: .utf8)
        #expect(fresh.records.isEmpty && after.isEmpty)
    }

    @Test func curveDrawsEverySeries() {
        let records =
            (1...5).map {
                MetricsRecord(
                    kind: .train, step: $0 * 10,
                    values: [
                        ("loss", 2 / Double($0)), ("lm_loss", 1.5 / Double($0)),
                        ("exact", Double($0) / 5), ("token_acc", 0.5),
                    ])
            }
            + [MetricsRecord(kind: .eval, step: 50, values: [("exact", 0.75)])]
        let svg = TrainingCurve.svg(records, title: "a < b")
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 5)
        #expect(svg.contains("a &lt; b") && svg.contains("<circle"), "a single eval point is drawn as a dot")
        #expect(TrainingCurve.svg([], title: "empty").contains("</svg>"))
    }
}
