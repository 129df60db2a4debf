namespace CrossDistill.TestSupport;

/// <summary>An op under test: builds the outputs from the case's arguments and leaf inputs.</summary>
public delegate Tensor[] OpUnderTest(OpCase c, Tensor[] inputs);

/// <summary>Runs a PyTorch fixture case through our op: forward values, then backward with the recorded upstream gradients.</summary>
public static class OpCaseRunner
{
    public static void Run(string file, string caseName, IReadOnlyDictionary<string, OpUnderTest> ops, float rtol = 1e-5f, float atol = 1e-6f)
    {
        var c = OpFixtures.Get(file, caseName);
        if (!ops.TryGetValue(c.Op, out var op)) throw new InvalidOperationException($"No op '{c.Op}' registered for fixture file '{file}'.");
        using var scope = DisposeScope.Enter();
        var leaves = c.Inputs.Select((t, i) => OpFixtures.Leaf(t, c.GradInputs[i] is not null)).ToArray();
        var outputs = op(c, leaves);
        Assert.Equal(c.Outputs.Length, outputs.Length);
        for (int i = 0; i < outputs.Length; i++)
            TensorAssert.Close(c.Outputs[i], outputs[i], rtol, atol, $"{caseName}: output {i}");

        if (c.GradInputs.All(g => g is null)) return;
        Tensor? loss = null;
        for (int i = 0; i < outputs.Length; i++)
        {
            if (c.GradOutputs[i] is not { } gout) continue;
            var term = (outputs[i] * gout).Sum();
            loss = loss is null ? term : loss + term;
        }
        Assert.NotNull(loss);
        loss!.Backward();
        for (int i = 0; i < leaves.Length; i++)
        {
            if (c.GradInputs[i] is not { } expected) continue;
            Assert.True(leaves[i].Grad is not null, $"{caseName}: input {i} got no gradient");
            TensorAssert.Close(expected, leaves[i].Grad!, rtol * 10, atol * 10, $"{caseName}: gradient of input {i}");
            leaves[i].Grad!.Dispose();
        }
    }
}
