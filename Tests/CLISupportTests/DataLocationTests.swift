import Foundation
import Testing
import TRMCore
@testable import CLISupport

/// The order in which default data files are looked for, and the error that lists every place.
@Suite struct DataLocationTests {
    let file = DataLocation.arcFile

    @Test func trmDataThenInstallationThenCheckoutThenCurrentDirectory() {
        let places = DataLocation.places(
            for: file, environment: ["TRM_DATA": "/data/trm"], executable: "/home/u/trm/.build/x86_64-unknown-linux-gnu/release/trm-run",
            currentDirectory: "/elsewhere")
        #expect(
            places == [
                .init(path: "/data/trm/arc/arc1.json", origin: "TRM_DATA"),
                .init(path: "/home/u/trm/.build/x86_64-unknown-linux-gnu/share/trm/data/arc/arc1.json", origin: "the installation"),
                .init(path: "/home/u/trm/data/arc/arc1.json", origin: "the checkout holding this build"),
                .init(path: "data/arc/arc1.json", origin: "the current directory"),
            ])
        // An installed tool has no checkout; an empty TRM_DATA counts as unset.
        let installed = DataLocation.places(
            for: file, environment: ["TRM_DATA": ""], executable: "/opt/trm/bin/trm-run", currentDirectory: "/w")
        #expect(installed.map(\.path) == ["/opt/trm/share/trm/data/arc/arc1.json", "data/arc/arc1.json"])
        // Run in the checkout, its data/ is the current directory's: listed once.
        let inCheckout = DataLocation.places(
            for: file, environment: [:], executable: "/home/u/trm/.build/release/trm-run", currentDirectory: "/home/u/trm/")
        #expect(inCheckout.map(\.origin) == ["the installation", "the checkout holding this build"])
        // An unknown executable leaves the current directory.
        #expect(
            DataLocation.places(for: file, environment: [:], executable: nil, currentDirectory: "/w").map(\.path) == ["data/arc/arc1.json"])
    }

    @Test func notFoundListsEveryPlaceAndWhatToDo() {
        let places = DataLocation.places(for: file, environment: [:], executable: "/opt/trm/bin/trm-run", currentDirectory: "/w")
        let error = DataLocation.notFound(file, what: "ARC-AGI-1", fetch: "run `make data`", places: places, currentDirectory: "/w")
        #expect(
            error.message == """
                ARC-AGI-1 (arc/arc1.json) not found; looked for it at
                  $TRM_DATA/arc/arc1.json (TRM_DATA is not set)
                  /opt/trm/share/trm/data/arc/arc1.json (the installation)
                  /w/data/arc/arc1.json (the current directory)
                run `make data`, set TRM_DATA to a directory holding arc/arc1.json, or pass --data
                """)
        #expect(error.kind == .invalidInput)
    }

    @Test func pathsAreNormalisedLexically() {
        #expect(DataLocation.standardized("/a/bin/../share//trm/./data") == "/a/share/trm/data")
        #expect(DataLocation.standardized("/..") == "/" && DataLocation.standardized("../x/..") == "..")
        #expect(DataLocation.standardized("a/./b/") == "a/b")
    }
}
