import Foundation
import OnboardModels
import OnboardPipeline
import OnboardTestSupport
import XCTest

final class RecipeChoiceTests: XCTestCase {
    func recipes(_ name: String) -> String { "\(TestPaths.root)/Configs/recipes/\(name).json" }

    func bundle(recipe: Any?) throws -> ModelBundle {
        let directory = TestPaths.temporaryDirectory("recipe-choice")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        try makeSixCameraPETRBundle(directory) { config in config["recipe"] = recipe }
        return try ModelBundle(directory: directory)
    }

    func test_theShippedQPETRNamesItsRecipe() throws {
        let choice = try RecipeChoice(requested: nil, bundle: try ModelBundle(directory: "\(TestPaths.root)/Configs/models/qpetr-demo"))
        XCTAssertEqual(choice.origin, .bundle)
        XCTAssertEqual((choice.path as NSString).standardizingPath, recipes("qpetr-int8"))
        XCTAssertEqual(choice.recipe.softmax, try RecipeChoice(requested: recipes("qpetr-int8"), bundle: try bundle(recipe: nil)).recipe.softmax)
        XCTAssertTrue(choice.description.contains("named by the bundle"), choice.description)
    }

    func test_aBundleWithoutARecipeGetsTheKitDefault() throws {
        let choice = try RecipeChoice(requested: nil, bundle: try bundle(recipe: nil))
        XCTAssertEqual(choice.origin, .kitDefault)
        XCTAssertEqual((choice.path as NSString).standardizingPath, recipes(RecipeChoice.defaultName))
    }

    func test_aRequestedRecipeWinsOverTheBundles() throws {
        let choice = try RecipeChoice(requested: recipes("int8-per-channel-percentile"), bundle: try bundle(recipe: "qpetr-int8"))
        XCTAssertEqual(choice.origin, .requested)
        XCTAssertEqual(choice.path, recipes("int8-per-channel-percentile"))
    }

    func test_aJSONRecipeIsReadBesideTheBundle() throws {
        let bundle = try bundle(recipe: "mine.json")
        try FileManager.default.copyItem(atPath: recipes("int8-per-tensor-percentile"), toPath: "\(bundle.directory)/mine.json")
        let choice = try RecipeChoice(requested: nil, bundle: bundle)
        XCTAssertEqual(choice.path, "\(bundle.directory)/mine.json")
        XCTAssertEqual(choice.recipe.observer, try RecipeChoice(requested: recipes("int8-per-tensor-percentile"), bundle: bundle).recipe.observer)
    }

    func test_aMissingOrMalformedRecipeNameIsAnErrorNamingConfigAndKey() throws {
        for value in ["no-such-recipe", "missing.json", 3, ""] as [Any] {
            let bundle = try bundle(recipe: value)
            XCTAssertThrowsError(try RecipeChoice(requested: nil, bundle: bundle), "\(value)") { error in
                XCTAssertTrue("\(error)".contains("config.json: recipe:"), "\(error)")
            }
        }
    }
}
