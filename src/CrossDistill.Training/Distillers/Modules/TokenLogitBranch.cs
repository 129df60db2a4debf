using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models.Transformers;
using CrossDistill.Models;

namespace CrossDistill.Training.Distillers.Modules;

/// <summary>
/// OFA-KD's branch from a token student's stage feature into logit space: k patch-merging layers
/// on the patch tokens (k = max(⌊log2(grid / finalGrid)⌋, 0); the first maps to the student's final
/// width F, every one but the last (and always the first) ends with GELU; prefix tokens bypass
/// them), then max(4 − stage, 1) ViT blocks of width F with 4 heads, then the first prefix (class)
/// token, or the mean token when there is none, then Linear(F → classes). OFA's final grid is 7
/// (49 patches at 224 px); small inputs need a smaller one.
/// Two cases the official code cannot run get a documented extension, a Linear(E → F) named
/// token_proj when the stage width E differs from F: applied to every token when no merging
/// happens, to the prefix tokens when merging happens. With several prefix tokens (DeiT's
/// distillation token) only the first is read, where the official code would fail.
/// </summary>
public sealed class TokenLogitBranch : Module<Tensor, Tensor>
{
    private readonly ModuleList<PatchMerging>? _merge;
    private readonly Linear? _tokenProj;
    private readonly ModuleList<EncoderBlock> _blocks;
    private readonly Linear _head;

    /// <param name="stage">1-based stage (1 … 4) the feature comes from.</param>
    /// <param name="featureDim">The student's pre-logit width F.</param>
    public TokenLogitBranch(TokenSpec feature, int stage, int featureDim, int numClasses, int finalGrid = 7, int numHeads = 4)
    {
        if (stage is < 1 or > 4) throw new ArgumentException($"TokenLogitBranch: stage must be 1 … 4, got {stage}.", nameof(stage));
        if (feature.GridSide == 0)
            throw new ArgumentException($"TokenLogitBranch: stage {stage}'s {feature.Tokens - feature.PrefixTokens} patch tokens ({feature}) do not form a square grid.", nameof(feature));
        if (finalGrid < 1) throw new ArgumentException($"TokenLogitBranch: the final grid must be positive, got {finalGrid}.", nameof(finalGrid));
        if (featureDim % numHeads != 0) throw new ArgumentException($"TokenLogitBranch: the student's feature width {featureDim} is not divisible by {numHeads} heads.", nameof(featureDim));
        Feature = feature;
        MergeCount = MergesFor(feature.GridSide, finalGrid);
        if (MergeCount > 0)
        {
            var list = new List<PatchMerging>();
            int grid = feature.GridSide;
            for (int i = 0; i < MergeCount; i++)
            {
                var merging = new PatchMerging(grid, i == 0 ? feature.Dim : featureDim, featureDim, gelu: i == 0 || i != MergeCount - 1);
                list.Add(merging);
                grid = merging.OutputGrid;
            }
            _merge = RegisterModule("merge", new ModuleList<PatchMerging>(list));
        }
        if (feature.Dim != featureDim && (MergeCount == 0 || feature.PrefixTokens > 0))
            _tokenProj = RegisterModule("token_proj", new Linear(feature.Dim, featureDim));
        _blocks = RegisterModule("blocks", new ModuleList<EncoderBlock>(Enumerable.Range(0, Math.Max(4 - stage, 1)).Select(_ => new EncoderBlock(featureDim, numHeads, 4 * featureDim, 0f, 0f, WeightNaming.Timm, layerNormEps: 1e-5f, qkvBias: false))));
        _head = RegisterModule("head", new Linear(featureDim, numClasses));
    }

    public TokenSpec Feature { get; }
    public int MergeCount { get; }

    /// <summary>⌊log2(grid / finalGrid)⌋ clamped at 0, in integers: the largest k with finalGrid·2^k ≤ grid.</summary>
    public static int MergesFor(int grid, int finalGrid)
    {
        int k = 0;
        while ((long)finalGrid << (k + 1) <= grid) k++;
        return k;
    }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 3 || x.Shape[1] != Feature.Tokens || x.Shape[2] != Feature.Dim)
            throw new ArgumentException($"TokenLogitBranch: expected (N, {Feature.Tokens}, {Feature.Dim}) tokens, got {ShapeUtil.Format(x.Shape)}.", nameof(x));
        int prefix = Feature.PrefixTokens;
        if (_merge is null)
        {
            if (_tokenProj is not null) x = _tokenProj.Forward(x);
        }
        else
        {
            var patches = x.Narrow(1, prefix, x.Shape[1] - prefix);
            foreach (var merging in _merge) patches = merging.Forward(patches);
            if (prefix > 0)
            {
                var prefixTokens = x.Narrow(1, 0, prefix);
                if (_tokenProj is not null) prefixTokens = _tokenProj.Forward(prefixTokens);
                x = Torch.Cat(new[] { prefixTokens, patches }, 1);
            }
            else x = patches;
        }
        foreach (var block in _blocks) x = block.Forward(x);
        var pooled = prefix > 0 ? x.Select(1, 0) : Torch.Mean(x, 1);
        return _head.Forward(pooled);
    }
}
