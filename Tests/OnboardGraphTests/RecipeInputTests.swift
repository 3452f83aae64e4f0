import Foundation
import OnboardCore
import OnboardGraph
import OnboardTestSupport
import XCTest

/// Recipe and plan files: a misspelt key is refused, and out-of-range values name the field.
final class RecipeInputTests: XCTestCase {
    func message<T>(_ json: String, _ load: (String) throws -> T) throws -> String {
        let directory = TestPaths.temporaryDirectory("recipe-input")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/r.json"
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try load(path)
            return "accepted"
        } catch {
            return "\(error)".replacingOccurrences(of: directory + "/", with: "")
        }
    }

    func test_anUnknownRecipeKeyIsAnErrorListingTheKnownOnes() throws {
        let text = try message(#"{"observr": "percentile", "weights": "per_channel"}"#, QuantizationRecipe.load)
        XCTAssertTrue(text.hasPrefix("r.json: observr: unknown field (known: activations, consumer_clipping,"), text)
        XCTAssertEqual(try message(#"{"observer": "minmax"}"#, QuantizationRecipe.load), "accepted")
        XCTAssertEqual(try message(#"{"percentile": "x"}"#, QuantizationRecipe.load), "r.json: percentile: wrong type (expected a number)")
        XCTAssertEqual(try message(#"{"observer": "nope"}"#, QuantizationRecipe.load), "r.json: observer: 'nope' is not a valid value")
        XCTAssertEqual(try message(#"{"percentile": 200}"#, QuantizationRecipe.load), "r.json: percentile: must be above 0 and at most 100, got 200.0")
        XCTAssertEqual(try message(#"{"percentile": 0}"#, QuantizationRecipe.load), "r.json: percentile: must be above 0 and at most 100, got 0.0")
        XCTAssertEqual(try message(#"{"percentile": 100}"#, QuantizationRecipe.load), "accepted")
    }

    func test_planValuesOutOfRangeNameTheTensorField() throws {
        let plan = #"{"format": "onboard-quant", "version": 1, "recipe": {}, "calibration_samples": 1, "activations": {"x": {"scale": 0.1, "zero_point": 99999999999, "qmin": 0, "qmax": 255}}}"#
        XCTAssertEqual(try message(plan, QuantizationPlan.load), "r.json: activations.x.zero_point: 99999999999.0 is out of range")
        XCTAssertTrue(try message("{\"format\": \"onboard-quant\", \"version\": 1,\n\"recipe\": {}, \"x\": NaN}", QuantizationPlan.load)
            .hasPrefix("r.json: line 2, column"))
    }
}
