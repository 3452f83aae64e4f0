import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardTestSupport
import XCTest

/// Linears that write attention heads in place (`HeadSplit`) give the same outputs, bit for bit,
/// as the reshape, permute and slices they replace.
final class HeadSplitTests: XCTestCase {
    func test_vitBlocksGiveTheSameLogitsWithHeadsWrittenInPlace() throws {
        // Head widths 16, 16 and 24 (not a whole number of 16-column panels: left to the permute).
        for (name, splits) in [("cls_token", true), ("avg_fc_norm_nonsquare", true), ("pre_norm_no_qkv_bias", false)] {
            let (graph, plan, inputs) = try calibratedFixture(name)
            let inPlace = try Int8Executor(graph: graph, plan: plan, threads: 2)
            let permuted = try Int8Executor(graph: graph, plan: plan, threads: 2, splitsHeadsInPlace: false)
            XCTAssertEqual(!inPlace.inPlaceHeadSplits.isEmpty, splits, name)
            XCTAssertTrue(permuted.inPlaceHeadSplits.isEmpty)
            if splits { XCTAssertTrue(inPlace.inPlaceHeadSplits.allSatisfy { $0.hasSuffix("attn.qkv") }, "\(inPlace.inPlaceHeadSplits)") }
            for x in inputs.prefix(2) {
                let a = try inPlace.run(["pixel_values": x])["logits"]!, b = try permuted.run(["pixel_values": x])["logits"]!
                XCTAssertEqual(a.floats(), b.floats(), name)
            }
        }
    }

    func test_petrDecoderGivesTheSameOutputsWithHeadsWrittenInPlace() throws {
        let fixture = try TinyPETRFixture(seed: 8)
        let (graph, plan, samples) = (fixture.fp32.built.graph, fixture.plan, fixture.samples)
        let inPlace = try Int8Executor(graph: graph, plan: plan, threads: 2)
        let permuted = try Int8Executor(graph: graph, plan: plan, threads: 2, splitsHeadsInPlace: false)
        // The q, k and v projections of the attentions that run per frame.
        XCTAssertFalse(inPlace.inPlaceHeadSplits.isEmpty)
        XCTAssertTrue(inPlace.inPlaceHeadSplits.allSatisfy { [".attn.q", ".attn.k", ".attn.v"].contains(where: $0.hasSuffix) },
                      "\(inPlace.inPlaceHeadSplits)")
        for sample in samples.prefix(2) {
            let a = try inPlace.run(sample), b = try permuted.run(sample)
            for name in ["cls_scores", "bbox_raw"] {
                XCTAssertEqual(try XCTUnwrap(a[name]).floats(), try XCTUnwrap(b[name]).floats(), name)
            }
        }
    }
}
