"""How `webui chat --tool` shows a call and its result on stderr (one line each)."""

from webui_tui.client.sse import ToolActivity, chunk_events


def test_call_and_result_lines() -> None:
    call = {"type": "function_call", "name": "get_forecast", "arguments": '{"city": "Oslo"}'}
    assert ToolActivity(call).line() == '→ get_forecast(city="Oslo")'
    done = {
        "type": "function_call_output",
        "status": "completed",
        "output": [{"type": "input_text", "text": "Sunny\n in Oslo " + "x" * 200}],
    }
    line = ToolActivity(done).line()
    assert line.startswith("  ← Sunny in Oslo x") and len(line) == 104 and "\n" not in line
    failed = {**done, "status": "failed", "output": [{"type": "input_text", "text": "Error: down"}]}
    assert ToolActivity(failed).line() == "  ✗ Error: down"
    assert chunk_events({"webui_tool": call}) == [ToolActivity(call)]
