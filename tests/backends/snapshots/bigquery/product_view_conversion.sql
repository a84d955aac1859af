SELECT
  *
FROM (
  SELECT
    `t18`.`product_id`,
    `t7`.`name`,
    `t18`.`views`,
    `t18`.`anonymous_views`,
    `t25`.`viewers`,
    `t25`.`buyers`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(CAST(`t25`.`buyers` AS FLOAT64), NULLIF(`t25`.`viewers`, 0)) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `conversion_rate`
  FROM (
    SELECT
      `t10`.`product_id`,
      COUNT(`t10`.`event_id`) AS `views`,
      SUM(IF(`t10`.`customer_id` IS NULL, 1, 0)) AS `anonymous_views`
    FROM (
      SELECT
        `t0`.`event_id`,
        `t0`.`occurred_at`,
        `t0`.`event_type`,
        `t0`.`anonymous_id`,
        `t0`.`customer_id`,
        `t0`.`session_id`,
        `t0`.`product_id`,
        `t0`.`category`,
        `t0`.`search_query`,
        `t0`.`page_url`,
        `t0`.`referrer`,
        `t0`.`quantity`,
        `t0`.`source`,
        DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) AS `event_date`
      FROM `web_events` AS `t0`
      WHERE
        `t0`.`event_type` = 'product_view'
        AND DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
        AND `t0`.`product_id` IS NOT NULL
    ) AS `t10`
    GROUP BY
      1
  ) AS `t18`
  INNER JOIN (
    SELECT
      `t23`.`product_id`,
      COUNT(`t23`.`customer_id`) AS `viewers`,
      SUM(COALESCE(`t23`.`bought`, 0)) AS `buyers`
    FROM (
      SELECT
        `t14`.`product_id`,
        `t14`.`customer_id`,
        `t14`.`first_view`,
        `t22`.`product_id` AS `product_id_right`,
        `t22`.`customer_id` AS `customer_id_right`,
        `t22`.`bought`
      FROM (
        SELECT
          `t11`.`product_id`,
          `t11`.`customer_id`,
          MIN(`t11`.`event_date`) AS `first_view`
        FROM (
          SELECT
            `t0`.`event_id`,
            `t0`.`occurred_at`,
            `t0`.`event_type`,
            `t0`.`anonymous_id`,
            `t0`.`customer_id`,
            `t0`.`session_id`,
            `t0`.`product_id`,
            `t0`.`category`,
            `t0`.`search_query`,
            `t0`.`page_url`,
            `t0`.`referrer`,
            `t0`.`quantity`,
            `t0`.`source`,
            DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) AS `event_date`
          FROM `web_events` AS `t0`
          WHERE
            `t0`.`event_type` = 'product_view'
            AND DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
            AND `t0`.`product_id` IS NOT NULL
            AND `t0`.`customer_id` IS NOT NULL
        ) AS `t11`
        GROUP BY
          1,
          2
      ) AS `t14`
      LEFT OUTER JOIN (
        SELECT
          `t20`.`product_id`,
          `t20`.`customer_id`,
          1 AS `bought`
        FROM (
          SELECT DISTINCT
            *
          FROM (
            SELECT
              `t14`.`product_id`,
              `t14`.`customer_id`
            FROM (
              SELECT
                `t11`.`product_id`,
                `t11`.`customer_id`,
                MIN(`t11`.`event_date`) AS `first_view`
              FROM (
                SELECT
                  `t0`.`event_id`,
                  `t0`.`occurred_at`,
                  `t0`.`event_type`,
                  `t0`.`anonymous_id`,
                  `t0`.`customer_id`,
                  `t0`.`session_id`,
                  `t0`.`product_id`,
                  `t0`.`category`,
                  `t0`.`search_query`,
                  `t0`.`page_url`,
                  `t0`.`referrer`,
                  `t0`.`quantity`,
                  `t0`.`source`,
                  DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) AS `event_date`
                FROM `web_events` AS `t0`
                WHERE
                  `t0`.`event_type` = 'product_view'
                  AND DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
                  AND `t0`.`product_id` IS NOT NULL
                  AND `t0`.`customer_id` IS NOT NULL
              ) AS `t11`
              GROUP BY
                1,
                2
            ) AS `t14`
            INNER JOIN (
              SELECT
                `t12`.`customer_id` AS `buyer`,
                `t4`.`product_id` AS `bought_product`,
                `t12`.`order_date` AS `bought_on`
              FROM `order_items` AS `t4`
              LEFT OUTER JOIN (
                SELECT
                  `t1`.`product_id`,
                  `t1`.`category` AS `master_category`
                FROM `products` AS `t1`
              ) AS `t8`
                ON `t4`.`product_id` = `t8`.`product_id`
              INNER JOIN (
                SELECT
                  `t3`.`order_id`,
                  `t3`.`customer_id`,
                  `t3`.`ordered_at`,
                  DATE(TIMESTAMP_ADD(`t3`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
                FROM `orders` AS `t3`
                WHERE
                  `t3`.`status` = 'completed'
                  AND `t3`.`customer_id` IS NOT NULL
                  AND `t3`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
              ) AS `t12`
                ON `t4`.`order_id` = `t12`.`order_id`
            ) AS `t17`
              ON `t14`.`customer_id` = `t17`.`buyer`
              AND `t14`.`product_id` = `t17`.`bought_product`
              AND `t17`.`bought_on` >= `t14`.`first_view`
              AND DATE_DIFF(`t17`.`bought_on`, `t14`.`first_view`, DAY) <= 30
          ) AS `t19`
        ) AS `t20`
      ) AS `t22`
        ON `t14`.`product_id` = `t22`.`product_id`
        AND `t14`.`customer_id` = `t22`.`customer_id`
    ) AS `t23`
    GROUP BY
      1
  ) AS `t25`
    ON `t18`.`product_id` = `t25`.`product_id`
  LEFT OUTER JOIN (
    SELECT
      `t1`.`product_id`,
      `t1`.`name`
    FROM `products` AS `t1`
  ) AS `t7`
    ON `t18`.`product_id` = `t7`.`product_id`
) AS `t26`
ORDER BY
  `t26`.`viewers` DESC,
  `t26`.`product_id` ASC NULLS LAST
