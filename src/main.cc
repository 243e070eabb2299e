// Placeholder entry point; the CLI shell replaces it.
int main() { return 0; }
