/* A stand-in for classic Outlook's outlook.exe, for scripts/test-windows.sh: registered under App Paths in the
 * test's Wine prefix, it writes the arguments Windows' own parser (CommandLineToArgvW, as Outlook's start-up code
 * uses) makes of its command line, one per line in UTF-8, into the file ICLOUD_MAIL_SETUP_OUTLOOK_RECORD names, so
 * a test can see that a saved profile's path arrives whole as one argument. */
#include <windows.h>
#include <shellapi.h>

int main(void) {
  int argc = 0;
  LPWSTR *argv = CommandLineToArgvW(GetCommandLineW(), &argc);
  WCHAR record[MAX_PATH];
  if (argv == NULL || !GetEnvironmentVariableW(L"ICLOUD_MAIL_SETUP_OUTLOOK_RECORD", record, MAX_PATH)) return 2;
  HANDLE file = CreateFileW(record, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
  if (file == INVALID_HANDLE_VALUE) return 3;
  for (int i = 0; i < argc; i++) {
    char line[4 * MAX_PATH];
    int n = WideCharToMultiByte(CP_UTF8, 0, argv[i], -1, line, sizeof line - 1, NULL, NULL);
    if (n <= 0) return 4;
    line[n - 1] = '\n';
    DWORD written;
    if (!WriteFile(file, line, (DWORD)n, &written, NULL)) return 5;
  }
  CloseHandle(file);
  return 0;
}
