import OnboardTestSupport
import XCTest

/// The demo PETR architectures (ViT backbone, PETR head; official position embedding and Q-PETR's
/// QFPE; a Vision Mamba backbone with QFPE) against the training code itself (tools/make_demo_petr_fixtures.py runs
/// tools/demo_petr/model.py on small random weights): what is trained is what Swift runs.
final class DemoPETRFixtureTests: XCTestCase {
    func test_demoArchitecturesMatchTheTrainingCode() throws {
        let checker = PETRFixtureTests(name: "demo-petr", testClosure: { _ in })
        for name in ["petr", "qfpe", "vim_qfpe"] {
            let errors = try checker.check(directory: TestPaths.fixture("demo-petr/\(name)"), threads: 2)
            XCTAssertEqual(Set(errors.keys), ["coords3d", "pos_embed", "memory", "all_cls_scores", "all_bbox_preds", "boxes"])
            print("demo PETR fixture \(name): \(errors.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2e", $0.value))" }.joined(separator: ", "))")
        }
    }
}
