//! Page extraction on saved pages of the common shapes (a news article with
//! `srcset`/`<picture>`, a lazy-loading gallery, a page with only
//! `og:image`) and on hostile HTML (huge, deep, broken).

use std::time::{Duration, Instant};

use provenance::scrape::{
    candidates_from_page, extract_images, extract_images_with, ExtractOptions, ImageSource,
    PageImages,
};
use url::Url;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/pages/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

/// (url, width, height, source) of every image, for whole-list comparisons.
fn summary(page: &PageImages) -> Vec<(String, Option<u32>, Option<u32>, ImageSource)> {
    page.images
        .iter()
        .map(|image| {
            (
                image.url.to_string(),
                image.width,
                image.height,
                image.source,
            )
        })
        .collect()
}

#[test]
fn news_article_takes_declared_image_largest_srcset_and_picture_and_skips_icons() {
    let page_url = url("https://news.example.com/environment/2026/jan/12/winter-wildlife-red-fox");
    let page = extract_images(&fixture("news_article.html"), &page_url);
    assert_eq!(
        page.title.as_deref(),
        Some("Winter wildlife: a red fox hunts mice under the snow | Environment | The Daily Example")
    );
    let media = "https://i.example-cdn.com/img/media/2b7c5d0e1f/0_0_5000_3000/master/5000.jpg";
    let expected = vec![
        (
            format!("{media}?width=1200&height=630&quality=85&fit=crop&s=9d1e"),
            Some(1200),
            Some(630),
            ImageSource::OgImage,
        ),
        (
            format!("{media}?width=2600&dpr=2&s=none&format=webp"),
            Some(2600),
            None,
            ImageSource::Picture,
        ),
        (
            format!("{media}?width=1920&dpr=1&s=none"),
            Some(1920),
            Some(1152),
            ImageSource::Srcset,
        ),
        (
            "https://news.example.com/images/2026/01/fox-tracks.jpg".to_string(),
            Some(620),
            Some(413),
            ImageSource::Img,
        ),
        (
            "https://news.example.com/images/2026/01/fox-den-2x.jpg".to_string(),
            None,
            None,
            ImageSource::Srcset,
        ),
        (
            "https://i.example-cdn.com/img/media/aa11/owl.jpg?width=300&quality=45".to_string(),
            Some(300),
            Some(180),
            ImageSource::Img,
        ),
    ];
    assert_eq!(summary(&page), expected);
}

#[test]
fn lazy_gallery_uses_data_attributes_base_href_noscript_and_lightbox_links() {
    let page_url = url("https://www.nordicwild.example/galleries/fox-winter.html");
    let page = extract_images(&fixture("lazy_gallery.html"), &page_url);
    assert_eq!(
        page.title.as_deref(),
        Some("Fox gallery – 12 winter photos – Nordic Wild Photo")
    );
    let base = "https://cdn.nordicwild.example/galleries/fox-winter";
    let expected = vec![
        (
            format!("{base}/full/fox-01.jpg"),
            None,
            None,
            ImageSource::AnchorHref,
        ),
        (
            format!("{base}/thumbs/fox-01.jpg"),
            Some(300),
            Some(200),
            ImageSource::LazyAttr,
        ),
        (
            format!("{base}/full/fox-02.JPG"),
            None,
            None,
            ImageSource::AnchorHref,
        ),
        (
            format!("{base}/large/fox-02.jpg"),
            Some(2048),
            Some(1365),
            ImageSource::LazyAttr,
        ),
        (
            "https://images.nordicwild.example/fox-03.webp".to_string(),
            None,
            None,
            ImageSource::LazyAttr,
        ),
        (
            "https://cdn.nordicwild.example/static/legacy/fox-04.jpeg".to_string(),
            None,
            None,
            ImageSource::LazyAttr,
        ),
        (
            "https://res.cloudimg.example/w_1600,h_1200,c_fill/fox-05.jpg".to_string(),
            Some(1600),
            None,
            ImageSource::LazyAttr,
        ),
        (
            format!("{base}/avif/fox-06-1600.avif"),
            Some(1600),
            None,
            ImageSource::Picture,
        ),
        (
            format!("{base}/jpg/fox-06-800.jpg"),
            None,
            None,
            ImageSource::LazyAttr,
        ),
        (
            "https://images.nordicwild.example/fox-07-noscript-only.jpg".to_string(),
            None,
            None,
            ImageSource::Img,
        ),
    ];
    assert_eq!(summary(&page), expected);
}

#[test]
fn og_only_page_yields_declared_images_and_og_title() {
    let page_url = url("https://www.foxtagram.example/p/C1a2B3c4D5e/");
    let page = extract_images(&fixture("og_only.html"), &page_url);
    assert_eq!(
        page.title.as_deref(),
        Some("@arctic.anna on Foxtagram: \"first snow, first pounce 🦊❄️\"")
    );
    let urls: Vec<(&str, ImageSource)> = page
        .images
        .iter()
        .map(|i| (i.url.as_str(), i.source))
        .collect();
    assert_eq!(
        urls,
        vec![
            (
                "https://scontent.foxtagram.example/v/t51.2885-15/412345678_1234567890_n.jpg?stp=dst-jpg_e35&_nc_ht=scontent.foxtagram.example&oh=00_AfB1&oe=67A1B2C3",
                ImageSource::OgImage
            ),
            ("https://www.foxtagram.example/media/C1a2B3c4D5e/full.jpg", ImageSource::LinkImageSrc),
        ]
    );
}

#[test]
fn candidates_carry_the_page() {
    let page_url = url("https://www.foxtagram.example/p/C1a2B3c4D5e/");
    let page = extract_images(&fixture("og_only.html"), &page_url);
    let candidates = candidates_from_page(&page, &page_url);
    assert_eq!(candidates.len(), 2);
    for (index, candidate) in candidates.iter().enumerate() {
        assert_eq!(candidate.provider, "page");
        assert_eq!(candidate.rank as usize, index + 1);
        assert_eq!(candidate.page_url.as_ref(), Some(&page_url));
        assert_eq!(candidate.site.as_deref(), Some("foxtagram.example"));
        assert_eq!(candidate.page_title, page.title);
    }
}

#[test]
fn unusable_urls_are_skipped_not_fatal() {
    let html = r#"<title>x</title>
        <img src="javascript:alert(1)"> <img src="http://[::1"> <img src=""> <img>
        <img src="  DATA:image/png;base64,AAAA"> <img src="mailto:a@b.c">
        <img src="ok.jpg" width="100%" height="abc">
        <img srcset=", ,"> <meta property="og:image"> <link rel="image_src">
        <base href="javascript:void(0)">"#;
    let page = extract_images(html, &url("https://e.example/dir/page"));
    assert_eq!(
        summary(&page),
        vec![(
            "https://e.example/dir/ok.jpg".to_string(),
            None,
            None,
            ImageSource::Img
        )]
    );
}

#[test]
fn ten_thousand_images_are_capped_and_fast() {
    let html: String = (0..10_000)
        .map(|i| format!("<div><img src=\"/img/{i}.jpg\" width=\"640\" height=\"480\"></div>"))
        .collect();
    let page_url = url("https://big.example/");
    let started = Instant::now();
    let page = extract_images(&html, &page_url);
    let elapsed = started.elapsed();
    assert_eq!(page.images.len(), 500);
    assert_eq!(
        page.images[499].url.as_str(),
        "https://big.example/img/499.jpg"
    );
    let all = extract_images_with(
        &html,
        &page_url,
        &ExtractOptions {
            max_images: 20_000,
            ..ExtractOptions::default()
        },
    );
    assert_eq!(all.images.len(), 10_000);
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn deeply_nested_html_is_bounded() {
    let depth = 100_000;
    let nests = [
        ("<div><span>", "</span></div>"),
        ("<b><i>", "</i></b>"),
        ("<picture><a href=\"/x\">", "</a></picture>"),
        ("<table><tr><td>", "</td></tr></table>"),
    ];
    for (open, close) in nests {
        let html = format!(
            "<title>deep</title>{}<img src=\"/bottom.jpg\" width=\"800\">{}",
            open.repeat(depth),
            close.repeat(depth)
        );
        let started = Instant::now();
        let page = extract_images(&html, &url("https://deep.example/"));
        let elapsed = started.elapsed();
        assert_eq!(page.title.as_deref(), Some("deep"), "{open}");
        let urls: Vec<&str> = page.images.iter().map(|i| i.url.as_str()).collect();
        assert_eq!(urls, vec!["https://deep.example/bottom.jpg"], "{open}");
        assert!(elapsed < Duration::from_secs(5), "{open}: took {elapsed:?}");
    }
}

#[test]
fn html_beyond_the_byte_cap_is_ignored() {
    let filler = "<p>".to_string() + &"fox ".repeat(10_000) + "</p>";
    let html = format!("<img src=\"/first.jpg\">{filler}<img src=\"/late.jpg\">");
    let options = ExtractOptions {
        max_html_bytes: 1_000,
        ..ExtractOptions::default()
    };
    let page = extract_images_with(&html, &url("https://e.example/"), &options);
    let urls: Vec<&str> = page.images.iter().map(|i| i.url.as_str()).collect();
    assert_eq!(urls, vec!["https://e.example/first.jpg"]);
}

/// The words of the image whose URL contains `part`.
fn words_of<'a>(page: &'a PageImages, part: &str) -> &'a provenance::model::PostingWords {
    &page
        .images
        .iter()
        .find(|image| image.url.as_str().contains(part))
        .unwrap_or_else(|| panic!("no image with {part}"))
        .words
}

#[test]
fn article_pictures_carry_their_alt_caption_heading_and_nearby_text() {
    let page_url = url("https://news.example.com/environment/2026/jan/12/winter-wildlife-red-fox");
    let page = extract_images(&fixture("news_article.html"), &page_url);
    assert_eq!(
        page.description.as_deref(),
        Some("Foxes can hear a vole moving under a metre of snow. Our photographer spent three winters watching them pounce.")
    );
    let main = words_of(&page, "width=2600");
    assert_eq!(
        main.alt.as_deref(),
        Some("A red fox leaps head-first into deep snow")
    );
    assert_eq!(
        main.caption.as_deref(),
        Some("A red fox mid-pounce near Tromsø. Photograph: Anna Berg")
    );
    assert_eq!(
        main.heading.as_deref(),
        Some("Winter wildlife: a red fox hunts mice under the snow")
    );
    let nearby = main.nearby.as_deref().unwrap();
    assert!(
        nearby.contains("By Anna Berg · Mon 12 Jan 2026"),
        "{nearby}"
    );
    assert!(nearby.contains("Foxes can hear a vole"), "{nearby}");
    let tracks = words_of(&page, "fox-tracks.jpg");
    assert_eq!(
        tracks.caption.as_deref(),
        Some("Tracks lead to the hunting spot.")
    );
    assert_eq!(tracks.alt.as_deref(), Some("Fox tracks in fresh snow"));
    let den = words_of(&page, "fox-den-2x.jpg");
    assert_eq!(den.caption, None, "its figure has no caption");
    let candidates = candidates_from_page(&page, &page_url);
    let declared = &candidates[0];
    assert_eq!(
        declared.words.description, page.description,
        "the page's description on each"
    );
    assert_eq!(declared.words.alt, None);
}

#[test]
fn gallery_links_lazy_images_and_noscript_carry_their_alt() {
    let page_url = url("https://gallery.example.org/winter/index.html");
    let page = extract_images(&fixture("lazy_gallery.html"), &page_url);
    let full = words_of(&page, "full/fox-01.jpg");
    assert_eq!(
        full.alt.as_deref(),
        Some("Fox 1"),
        "the link's picture's alt"
    );
    assert_eq!(full.heading.as_deref(), Some("Winter foxes"));
    assert_eq!(words_of(&page, "fox-03.webp").alt.as_deref(), Some("Fox 3"));
    assert_eq!(
        words_of(&page, "fox-06-1600.avif").alt.as_deref(),
        Some("Fox 6")
    );
    assert_eq!(
        words_of(&page, "fox-07-noscript-only.jpg").alt.as_deref(),
        Some("Fox 7")
    );
    assert_eq!(
        words_of(&page, "thumbs/fox-01.jpg").alt.as_deref(),
        Some("Fox 1"),
        "a picture met again keeps its first words"
    );
}

#[test]
fn hostile_markup_in_captions_stays_text() {
    let html = r#"<html><head><title>t</title><meta property="og:image" content="/og.jpg"><meta property="og:image:alt" content="  Poster   for the gala "></head><body>
        <h2>Gala <script>document.title='x'</script>night</h2>
        <figure><img src="/a.jpg" alt="&lt;script&gt;alert(1)&lt;/script&gt;" title="A &quot;quoted&quot; title">
        <figcaption>Fox <script>alert(1)</script><style>b{}</style><b onclick="evil()">bold</b> &lt;i&gt;not markup&lt;/i&gt;<noscript><img src=x></noscript></figcaption></figure>
        </body></html>"#;
    let page = extract_images(html, &url("https://e.example/p"));
    assert_eq!(
        words_of(&page, "og.jpg").alt.as_deref(),
        Some("Poster for the gala")
    );
    let words = words_of(&page, "a.jpg");
    assert_eq!(words.caption.as_deref(), Some("Fox bold <i>not markup</i>"));
    assert_eq!(
        words.alt.as_deref(),
        Some("<script>alert(1)</script>"),
        "kept as text, escaped where shown"
    );
    assert_eq!(words.title.as_deref(), Some("A \"quoted\" title"));
    assert_eq!(words.heading.as_deref(), Some("Gala night"));
    let nearby = words.nearby.as_deref().unwrap_or_default();
    assert!(
        !nearby.contains("document.title") && !nearby.contains("b{}"),
        "{nearby}"
    );
}

#[test]
fn a_megabyte_of_text_around_a_picture_is_capped() {
    let before = "alpha ".repeat(200_000);
    let after = "omega ".repeat(200_000);
    let html = format!(
        "<h1>{}</h1><p>{before} just before</p><figure><img src=\"/big.jpg\" alt=\"{}\"></figure><p>just after {after}</p><figure><img src=\"/two.jpg\"><figcaption>{}</figcaption></figure>",
        "heading ".repeat(100_000),
        "alt ".repeat(100_000),
        "caption ".repeat(100_000)
    );
    let page = extract_images(&html, &url("https://e.example/p"));
    let words = words_of(&page, "big.jpg");
    let nearby = words.nearby.as_deref().unwrap();
    assert!(nearby.chars().count() <= provenance::model::posting_words::MAX_NEARBY_CHARS);
    assert!(
        nearby.contains("alpha just before"),
        "the end of the text before"
    );
    assert!(
        nearby.contains("just after omega"),
        "the start of the text after"
    );
    let caption = &words_of(&page, "two.jpg").caption;
    for field in [&words.heading, &words.alt, caption] {
        let text = field.as_deref().unwrap();
        assert!(text.chars().count() <= provenance::model::posting_words::MAX_WORDS_CHARS);
    }
}
