"""Korean translations of the PDF/A documents' messages (see scripts/ko_messages.py for how the files merge)."""

KO = {
    "cannot make the {document} PDF/A: {detail}; install a font that covers Korean where fontconfig "
    "finds it (on Debian or Ubuntu the package {package})":
        "{document} PDF/A를 만들 수 없습니다: {detail}. fontconfig가 찾을 수 있는 곳에 한글을 지원하는 글꼴을 "
        "설치하십시오 (데비안·우분투에서는 {package} 패키지)",
    "cannot make PDF/A documents: the layout engine (WeasyPrint with Pango) does not load ({detail}); "
    "install Pango (on Debian or Ubuntu the package libpango-1.0-0)":
        "PDF/A 문서를 만들 수 없습니다: 조판 엔진(WeasyPrint와 Pango)을 불러오지 못했습니다 ({detail}). "
        "Pango를 설치하십시오 (데비안·우분투에서는 libpango-1.0-0 패키지)",
    "{count} rows": "{count}건",
    "PDF/A to file": "보관용 PDF/A",
}
