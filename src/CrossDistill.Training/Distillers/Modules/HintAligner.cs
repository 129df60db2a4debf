using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Training.Distillers.Modules;

/// <summary>
/// FitNet's regressor from a student stage feature to the teacher's stage feature, for any pair of
/// feature maps (N, C, H, W) and token sequences (N, L, D):
/// <list type="bullet">
/// <item>a token student's patch tokens (prefix tokens dropped) are laid out as their square grid, a map;</item>
/// <item>a 1×1 convolution without bias (OFA-KD's FitNet projector) maps the student's width to the teacher's;</item>
/// <item>the grid is resampled to the teacher's (H, W) or token grid by interpolation (bilinear by default);</item>
/// <item>for a token teacher the map is read back as tokens in row-major order; the target is the
/// teacher's patch tokens, without its prefix tokens (<see cref="Target"/>).</item>
/// </list>
/// A 1×1 convolution and interpolation commute (interpolation weights sum to 1), so the convolution
/// runs at whichever of the two resolutions is smaller.
/// </summary>
public sealed class HintAligner : Module<Tensor, Tensor>
{
    private readonly Conv2d _proj;
    private readonly (int H, int W) _studentGrid;
    private readonly (int H, int W) _teacherGrid;

    public HintAligner(FeatureSpec student, FeatureSpec teacher, string resample = "bilinear")
    {
        if (resample is not ("bilinear" or "nearest"))
            throw new ArgumentException($"HintAligner: resample must be bilinear or nearest, got '{resample}'.", nameof(resample));
        Student = student;
        Teacher = teacher;
        Resample = resample;
        _studentGrid = GridOf(student, "student");
        _teacherGrid = GridOf(teacher, "teacher");
        _proj = RegisterModule("proj", new Conv2d(student.ChannelDim, teacher.ChannelDim, 1, bias: false));
    }

    public FeatureSpec Student { get; }
    public FeatureSpec Teacher { get; }
    public string Resample { get; }

    private static (int, int) GridOf(FeatureSpec spec, string who) => spec switch
    {
        MapSpec m => (m.Height, m.Width),
        TokenSpec { GridSide: > 0 } t => (t.GridSide, t.GridSide),
        TokenSpec t => throw new ArgumentException($"HintAligner: the {who}'s {t.Tokens - t.PrefixTokens} patch tokens ({t}) do not form a square grid."),
        _ => throw new ArgumentException($"HintAligner: unknown {who} feature {spec}."),
    };

    /// <summary>The student feature mapped to the shape of <see cref="Target"/>.</summary>
    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != Student.Shape.Length + 1 || !x.Shape.AsSpan(1).SequenceEqual(Student.Shape))
            throw new ArgumentException($"HintAligner: expected a student feature (N, {string.Join(", ", Student.Shape)}), got {ShapeUtil.Format(x.Shape)}.", nameof(x));
        var map = Student is TokenSpec ts ? TokensToMap(x, ts.PrefixTokens, _studentGrid.H) : x;
        bool sameGrid = _studentGrid == _teacherGrid;
        bool shrinking = _teacherGrid.H * _teacherGrid.W < _studentGrid.H * _studentGrid.W;
        if (shrinking) map = Resize(map);
        map = _proj.Forward(map);
        if (!sameGrid && !shrinking) map = Resize(map);
        return Teacher is TokenSpec ? MapToTokens(map) : map;
    }

    /// <summary>The part of the teacher's feature the hint is compared with: the map, or the patch tokens.</summary>
    public Tensor Target(Tensor teacherFeature)
    {
        if (teacherFeature.Rank != Teacher.Shape.Length + 1 || !teacherFeature.Shape.AsSpan(1).SequenceEqual(Teacher.Shape))
            throw new ArgumentException($"HintAligner: expected a teacher feature (N, {string.Join(", ", Teacher.Shape)}), got {ShapeUtil.Format(teacherFeature.Shape)}.", nameof(teacherFeature));
        return Teacher is TokenSpec t && t.PrefixTokens > 0 ? teacherFeature.Narrow(1, t.PrefixTokens, t.Tokens - t.PrefixTokens) : teacherFeature;
    }

    private Tensor Resize(Tensor map) => F.Interpolate(map, size: new[] { _teacherGrid.H, _teacherGrid.W }, mode: Resample);

    /// <summary>(N, P + g², D) → (N, D, g, g), the patch tokens in row-major grid order (a channels-last view).</summary>
    public static Tensor TokensToMap(Tensor tokens, int prefixTokens, int grid)
    {
        int n = tokens.Shape[0], d = tokens.Shape[2];
        var patches = prefixTokens > 0 ? tokens.Narrow(1, prefixTokens, grid * grid) : tokens;
        return patches.Reshape(n, grid, grid, d).Permute(0, 3, 1, 2);
    }

    /// <summary>(N, C, H, W) → (N, H·W, C), row-major.</summary>
    public static Tensor MapToTokens(Tensor map)
    {
        int n = map.Shape[0], c = map.Shape[1], h = map.Shape[2], w = map.Shape[3];
        return map.Permute(0, 2, 3, 1).Reshape(n, h * w, c);
    }
}
