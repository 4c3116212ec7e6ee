"""Reports: terminal (rich), JSON, and the step graph as DOT or Mermaid."""
