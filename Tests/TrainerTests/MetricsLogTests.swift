import Foundation
import Testing
import GraphIR
import TestSupport
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

    @Test func curveDrawsEverySeriesWithTheHeldOutAccuracies() throws {
        let records =
            (1...5).map {
                MetricsRecord(
                    kind: .train, step: $0 * 10,
                    values: [
                        ("loss", 2 / Double($0)), ("lm_loss", 1.5 / Double($0)),
                        ("exact", Double($0) / 5), ("token_acc", 0.5),
                    ])
            }
            + [
                MetricsRecord(kind: .eval, step: 25, values: [("exact", 0.25), ("token_acc", 0.4), ("count", 8)]),
                MetricsRecord(kind: .eval, step: 50, values: [("exact", 0.75), ("token_acc", 0.6), ("count", 8)]),
            ]
        let svg = TrainingCurve.svg(records, title: "a < b")
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        let root = try XMLTree.parse(Data(svg.utf8))
        #expect(root.all("polyline").count == 6)
        let texts = root.all("text").map(\.text)
        #expect(texts.contains("a < b") && texts.contains("held-out exact") && texts.contains("held-out token acc"))
        // The held-out token accuracy: steps 25 and 50 of 50 across the 560-pixel frame at x 70; 40 % and
        // 60 % of the accuracy panel (200 pixels high, its top at 314).
        let heldOutTokens = root.all("polyline").filter { $0.attributes["stroke"] == "#98df8a" }
        #expect(heldOutTokens.map { $0.attributes["points"] } == ["350.0,434.0 630.0,394.0"])
        #expect(root.all("circle").count == 4, "a dot per held-out evaluation, exact and token accuracy")
        #expect(try XMLTree.parse(Data(TrainingCurve.svg([], title: "empty").utf8)).all("polyline").isEmpty)
    }
}
