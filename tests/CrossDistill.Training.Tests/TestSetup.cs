using CrossDistill.Models;
using CrossDistill.Training.Distillers;

namespace CrossDistill.Training.Tests;

/// <summary>A <see cref="DistillerSetup"/> for building a method directly in a test.</summary>
internal static class TestSetup
{
    public static DistillerSetup Of(VisionModel student, VisionModel teacher, float labelSmoothing = 0f)
        => new(student, new[] { teacher }, student.Config.NumClasses, 8, labelSmoothing, () => throw new NotSupportedException("Tests build no EMA copies."));
}
